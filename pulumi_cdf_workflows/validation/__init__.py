"""Validation of the resources' arguments against CDF's documented rules (docs/validation.md lists them)."""
