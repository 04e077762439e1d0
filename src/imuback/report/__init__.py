"""DuckDB queries over the dataset, trends, flags and HTML rendering."""
