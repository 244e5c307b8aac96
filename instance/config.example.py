# Copy to instance/config.py and adjust. Every key can also be set as an environment
# variable with the PORTAL_ prefix (PORTAL_SECRET_KEY, PORTAL_SQLALCHEMY_DATABASE_URI, ...),
# which wins over this file.

# A long random value; generate one with:  python -c "import secrets; print(secrets.token_hex(32))"
SECRET_KEY = "change-me"

# Default: SQLite in this folder. PostgreSQL example:
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://portal@127.0.0.1:5432/portal"

# Search index folder (default: instance/index)
# INDEX_DIR = "/var/lib/portal/index"

# Results per page on the search page
# SEARCH_PER_PAGE = 10
