"""The package version, kept in one place so headers and metadata agree."""

__version__ = "0.1.0"
