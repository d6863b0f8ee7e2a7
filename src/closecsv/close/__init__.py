"""Everything that speaks HTTP to Close: the client and its answers, retries, pacing and
paging, the read Protocols, the schema, the kinds of record and the organization's users."""
