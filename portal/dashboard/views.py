"""Views of this blueprint."""
