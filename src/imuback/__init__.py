"""imuback: running biomechanics from one lower-back IMU."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imuback")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

PIPELINE_VERSION = "0.3.1"
"""Version of the signal pipeline; bump whenever any processed number can change."""

__all__ = ["PIPELINE_VERSION", "__version__"]
