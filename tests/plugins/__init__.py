"""Fixture plugins shared across test folders, registered in the root conftest's `pytest_plugins`.

Test modules never import fixtures from each other or from a conftest; helpers that are plain
functions may be imported from these modules."""
