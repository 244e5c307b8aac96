"""Statistics: dashboard reports, cache, tables, public performance, enterprise file, export."""
