"""DuckDB warehouse: staged lake -> dimensions/facts -> marts, published per audience."""
