"""Many sessions: a local process pool by default, a Dask cluster when asked."""
