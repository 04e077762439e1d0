"""Pipeline parameters: frozen dataclasses with defaults and references. (filled in by the pipeline)"""
