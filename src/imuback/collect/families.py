"""Registry of sensor families: name -> implementation of :class:`SensorFamily`."""

from __future__ import annotations

from imuback.collect.sensor import SensorFamily
from imuback.errors import CollectError

FAMILY_NAMES = ("imuback", "polar")


def family_by_name(name: str) -> SensorFamily:
    """The sensor family called ``name`` (``imuback`` or ``polar``)."""
    if name == "imuback":
        from imuback.collect.imuback_protocol import ImubackFamily

        return ImubackFamily()
    if name == "polar":
        from imuback.collect.polar_pmd import PolarFamily

        return PolarFamily()
    raise CollectError(f"unknown sensor family {name!r}; choose one of {', '.join(FAMILY_NAMES)}")


def all_families() -> list[SensorFamily]:
    """Every known family (for scanning)."""
    return [family_by_name(n) for n in FAMILY_NAMES]
