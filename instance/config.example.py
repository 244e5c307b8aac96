# Copy to instance/config.py and adjust. Every key can also be set as an environment
# variable with the PORTAL_ prefix (PORTAL_SECRET_KEY, PORTAL_SQLALCHEMY_DATABASE_URI, ...),
# which wins over this file.

# Unset: a random key is generated into instance/secret_key on first run (not in production).
# In production set a long random value; generate one with:
#   python -c "import secrets; print(secrets.token_hex(32))"
# SECRET_KEY = "…"

# The portal's address as people reach it: every link in e-mails is built from it, never from
# the request's Host header. Required in production.
# PUBLIC_BASE_URL = "https://qi.lixian.gov.cn"

# Reverse proxies in front of the portal whose X-Forwarded-For / X-Forwarded-Proto are trusted
# (0: none; 1: one nginx)
# PROXY_COUNT = 1

# Default: SQLite in this folder. PostgreSQL example:
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://portal@127.0.0.1:5432/portal"

# Search index folders (default: instance/index and instance/ticket-index)
# INDEX_DIR = "/var/lib/portal/index"
# TICKET_INDEX_DIR = "/var/lib/portal/ticket-index"

# "inline" (one process applies search changes itself) or "indexer" (several workers or
# hosts; run `flask --app portal search sync --follow` once per host)
# SEARCH_SYNC = "indexer"
# Inline mode: seconds a ticket search waits for the background rebuild of a missing index
# TICKET_INDEX_REBUILD_WAIT = 5.0

# Results per page on the search page
# SEARCH_PER_PAGE = 10
