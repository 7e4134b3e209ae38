"""Integration tests: a package, so that its conftest.py is imported as `integration.conftest` and `conftest` stays
tests/conftest.py, whose helpers both folders import."""
