"""ibet-warehouse: shared intelligence warehouse of the Canada-US IBETs."""
__version__ = "0.1.0"
