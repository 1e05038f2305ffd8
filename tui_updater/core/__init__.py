"""Pure data: records, events, retry policy and the service interface (no I/O)."""
