"""A CSV file into Close: headers, values, plans, the journal, sending, reconciling, reports."""
