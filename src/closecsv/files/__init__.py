"""Bytes and CSV in and out: encodings, delimiters, record splitting, the CSV and Parquet
writers, formula escaping, safe file names and atomic files."""
