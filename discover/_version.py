"""The package version (its own module, so that every floor can import it)."""
__version__ = "0.2.0"
