"""Pyarrow schemas (with SCHEMA_VERSION), raw-session and dataset read/write, validation."""
