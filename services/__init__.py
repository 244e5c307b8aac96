"""Domain logic of the portal. Nothing here imports Flask request or form machinery:
functions receive a SQLAlchemy session (and, where search is affected, the catalog index)."""
