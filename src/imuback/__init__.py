"""imuback: running biomechanics from one lower-back IMU.

The public face (imported lazily, so ``import imuback`` stays light)::

    raw = imuback.read("run.parquet")              # or imuback.simulate(minutes=2)
    res = imuback.process(raw)                      # .steps / .strides / .session DataFrames
    res = imuback.process("run.parquet", dataset="ds")
    ds = imuback.open_dataset("ds")                 # .steps / .strides / .sessions, .query(sql)
    imuback.delete_session("ds", runner_id="ann", session_id="s1")  # one stored session out

See docs/python_api.md. Everything not listed in ``__all__`` is private by convention.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("imuback")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

PIPELINE_VERSION = "0.16.0"
"""Version of the signal pipeline; bump whenever any processed number can change."""

logging.getLogger(__name__).addHandler(logging.NullHandler())  # a library: the application configures logging

# The function ``imuback.simulate`` shares its name with the package ``imuback.simulate``. Importing a
# package sets it as an attribute of its parent, once, when it is first loaded: load it now (its
# __init__ is one docstring), so that the function below is what ``imuback.simulate`` stays.
importlib.import_module("imuback.simulate")


def simulate(**kwargs: Any) -> RawSession:
    """A simulated running session; see :func:`imuback.api.simulate` (the parameters are its)."""
    from imuback.api import simulate as _simulate

    return _simulate(**kwargs)


simulate.__doc__ = """A simulated running session (minutes of running, seed, runner_id, session_id,
start_time, sample_rate_hz: see :func:`imuback.api.simulate` and docs/python_api.md).

Examples
--------
>>> raw = imuback.simulate(minutes=2, seed=3)  # doctest: +SKIP
"""

if TYPE_CHECKING:
    from imuback.api import Dataset, SessionResult, delete_session, open_dataset, process, read, read_sessions
    from imuback.core import RawSession
    from imuback.errors import ImubackError
    from imuback.store.delete import DeletedSession

_LAZY = {
    "read": "imuback.api", "read_sessions": "imuback.api", "process": "imuback.api", "open_dataset": "imuback.api",
    "SessionResult": "imuback.api", "Dataset": "imuback.api", "RawSession": "imuback.core",
    "ImubackError": "imuback.errors", "delete_session": "imuback.api", "DeletedSession": "imuback.store.delete",
}

__all__ = ["PIPELINE_VERSION", "Dataset", "DeletedSession", "ImubackError", "RawSession", "SessionResult",
           "__version__", "delete_session", "open_dataset", "process", "read", "read_sessions", "simulate"]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imuback' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
