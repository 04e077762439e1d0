"""Many sessions: a local process pool by default, a Dask cluster when asked.

``run_batch`` drives, ``process_session`` is the one function mapped over the inputs by either
back end, ``run_query`` runs DuckDB SQL over a dataset, ``export_bids`` writes BIDS-motion.
See docs/batch.md. Names are imported on first use, so that a worker process that only needs
``imuback.batch.work`` does not load DuckDB or Dask.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BatchSummary": "imuback.batch.runner",
    "run_batch": "imuback.batch.runner",
    "SessionOutcome": "imuback.batch.work",
    "SessionTask": "imuback.batch.work",
    "process_session": "imuback.batch.work",
    "run_query": "imuback.batch.query",
    "export_bids": "imuback.batch.bids",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'imuback.batch' has no attribute {name!r}")
