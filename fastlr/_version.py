"""The package version, in a leaf module so that any module of the package can import it without a cycle."""

__version__ = "0.1.0"
