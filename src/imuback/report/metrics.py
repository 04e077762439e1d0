"""The metrics a report shows: labels, display units, what they were checked on and smallest real changes.

Every number a report prints comes from a session-table column named here. Published smallest
real changes are those of ``docs/report.md`` (from ../shared/DOMAIN.md); everything else about
"is this a real change" is derived from the runner's own data in :mod:`imuback.report.analysis`.
There are no "typical" population bands: none is shown without a source checked in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

ASYM_NORMAL_PCT = 5.0
"""|asymmetry| up to this (%) is normal (0-5 % normal, 5-10 % watch, > 10 % notable)."""
ASYM_NOTABLE_PCT = 10.0
"""|asymmetry| above this (%) is notable."""


REAL_RUNNING = "real running (force treadmill)"
"""Checked against a force treadmill's events and vertical force (alcantara_treadmill)."""
SENSOR_AT_REAL_EVENTS = "sensor reading; its contact window checked on real running"
"""Read off the sensor's signal within contacts whose events were checked on real running."""
SIMULATION_ONLY = "simulation only"
"""Checked against simulated runners' known answers only."""
REAL_WALKING = "real walking (foot sensors, motion capture)"
"""Checked against foot-mounted sensors and motion capture in walking (voisard_l5_walk, mobgap_lab)."""
RUNNING_ONLY = "running only: not given in walking"
"""A running metric left empty in walking (no walking toe-off, docs/validation.md note 3)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One reported metric: column stem, how to print it and when a change is real."""

    key: str
    """Column stem in the dataset, e.g. ``contact_time_s`` (session column ``median_<key>``)."""
    label: str
    """Plain-language name, e.g. ``Ground contact time``."""
    unit: str
    """Display unit, e.g. ``ms``."""
    scale: float = 1.0
    """Display value = stored value * scale (e.g. s -> ms: 1000)."""
    decimals: int = 1
    """Decimals shown in display units."""
    checked_on: str = SIMULATION_ONLY
    """Where its accuracy was measured in running (docs/validation.md): real recordings, or simulation only."""
    checked_on_walking: str = SIMULATION_ONLY
    """The same for walking steps (a walking-only session's report): real walking, simulation only,
    or :data:`RUNNING_ONLY`."""
    published_min_change: float | None = None
    """Published smallest real change, stored units (e.g. 0.032 s), or None: derive from the runner."""
    floor: float = 0.0
    """Smallest min-change ever used (stored units, or fraction of baseline if ``relative``)."""
    fallback: float = 0.0
    """Min change when there are too few sessions to derive one (same units as ``floor``)."""
    relative: bool = False
    """``floor`` and ``fallback`` are fractions of the baseline value (dimensionless indices)."""
    side: str | None = None
    """Stem of the left/right session columns (``left_<key>``), ``asymmetry_<side>_pct``."""
    load: bool = False
    """A loading metric: a rise is the direction a PT watches for low back pain."""
    flag_asymmetry: bool = True
    """Its left/right asymmetry is judged by the 0-5-10 % classes (those come from contact time
    and impact); False: the asymmetry is shown, not flagged."""

    def checked_on_for(self, activity: str) -> str:
        """Where its accuracy was measured for steps of ``activity`` (``"run"`` or ``"walk"``)."""
        return self.checked_on_walking if activity == "walk" else self.checked_on

    @property
    def axis_label(self) -> str:
        """Unit for an axis (``degrees`` rather than a lone ``°``)."""
        return "degrees" if self.unit == "°" else self.unit

    def show(self, value: float | None, *, signed: bool = False) -> str:
        """Format a stored value in display units (``n/a`` for missing)."""
        if value is None or value != value:  # NaN check without numpy
            return "n/a"
        v = round(value * self.scale, self.decimals) + 0.0  # no "-0.0"
        return f"{v:+.{self.decimals}f}" if signed else f"{v:.{self.decimals}f}"

    def show_unit(self, value: float | None, *, signed: bool = False) -> str:
        """Format with the unit, e.g. ``245 ms``."""
        text = self.show(value, signed=signed)
        if text == "n/a":
            return text
        return f"{text}°" if self.unit == "°" else f"{text} {self.unit}"


METRICS: tuple[Metric, ...] = (
    Metric(key="cadence_spm", checked_on=REAL_RUNNING, checked_on_walking=REAL_WALKING, label="Cadence",
           unit="steps/min", decimals=0, floor=1.0, fallback=3.0),
    Metric(key="contact_time_s", checked_on=REAL_RUNNING, checked_on_walking=RUNNING_ONLY,
           label="Ground contact time", unit="ms", scale=1000, decimals=0,
           published_min_change=0.032, side="contact_time"),
    Metric(key="flight_time_s", checked_on=REAL_RUNNING, checked_on_walking=RUNNING_ONLY, label="Flight time",
           unit="ms", scale=1000, decimals=0,
           published_min_change=0.032, side="flight_time"),
    Metric(key="impact_peak_g", checked_on=SENSOR_AT_REAL_EVENTS, checked_on_walking=RUNNING_ONLY,
           label="Impact (sacrum peak)", unit="g", decimals=2, floor=0.05, fallback=0.2, side="impact_peak", load=True),
    Metric(key="grf_peak_bw", checked_on=REAL_RUNNING, checked_on_walking=RUNNING_ONLY,
           label="Peak vertical force (estimated)", unit="BW", decimals=2,
           published_min_change=0.28, side="grf_peak", load=True),
    Metric(key="loading_rate_g_per_s", checked_on_walking=RUNNING_ONLY, label="Loading rate (index)", unit="g/s",
           decimals=0, floor=0.03, fallback=0.10, relative=True, side="loading_rate", load=True),
    Metric(key="vertical_oscillation_cm", label="Vertical oscillation", unit="cm", decimals=1,
           floor=0.3, fallback=1.0),
    Metric(key="braking_peak_g", label="Braking (peak deceleration)", unit="g", decimals=2,
           floor=0.02, fallback=0.05, side="braking_peak", load=True, flag_asymmetry=False),
    Metric(key="braking_impulse_mps", label="Braking (speed lost per step)", unit="m/s", decimals=3,
           floor=0.005, fallback=0.02, side="braking_impulse", load=True, flag_asymmetry=False),
    Metric(key="pelvic_drop_deg", checked_on_walking=RUNNING_ONLY, label="Pelvic drop (opposite side, in stance)",
           unit="°", decimals=1, floor=0.5, fallback=1.5, side="pelvic_drop", flag_asymmetry=False),
    Metric(key="pelvis_rotation_deg", label="Pelvis rotation (range)", unit="°", decimals=1,
           floor=0.5, fallback=2.0),
    Metric(key="pelvis_obliquity_deg", label="Pelvis obliquity / drop (range)", unit="°",
           decimals=1, floor=0.5, fallback=2.0),
    Metric(key="pelvis_tilt_deg", label="Pelvis tilt (range)", unit="°", decimals=1,
           floor=0.5, fallback=2.0),
    Metric(key="ml_excursion_cm", label="Side-to-side excursion", unit="cm", decimals=1,
           floor=0.3, fallback=1.0),
    Metric(key="ml_acc_rms_g", label="Side-to-side acceleration (RMS)", unit="g", decimals=3,
           floor=0.01, fallback=0.03),
)
"""Main metrics, in report order. Session column: ``median_<key>``."""

SPEED_SOURCE_CHECKED = "the speed source's own: treadmill belt, or phone GPS (not validated)"
"""Pace and speed are the source's; imuback does not measure them."""
LENGTH_CHECKED = "real running with the belt speed (force treadmill); GPS speed not validated"
LENGTH_CHECKED_WALKING = "step times checked on real walking; lengths not validated"
"""Walking step and stride length: speed x step (stride) time, no walking length reference."""
"""Step and stride length: speed x step (stride) time, step time checked on real running with its belt
speed (``python benchmarks/speed_lengths.py``: +0.1 ± 2.0 %); with GPS only as good as the GPS."""

SPEED_METRICS: tuple[Metric, ...] = (
    Metric(key="pace_s_per_km", label="Pace", unit="min/km", checked_on=SPEED_SOURCE_CHECKED),
    Metric(key="speed_mps", label="Speed", unit="m/s", decimals=2, checked_on=SPEED_SOURCE_CHECKED),
    Metric(key="step_length_m", label="Step length (one foot to the other)", unit="m", decimals=2,
           checked_on=LENGTH_CHECKED, checked_on_walking=LENGTH_CHECKED_WALKING),
    Metric(key="stride_length_m", label="Stride length (two steps)", unit="m", decimals=2,
           checked_on=LENGTH_CHECKED, checked_on_walking=LENGTH_CHECKED_WALKING),
    Metric(key="vertical_ratio_pct", label="Vertical ratio (oscillation / step length)", unit="%",
           decimals=1, checked_on=SIMULATION_ONLY),
)
"""Metrics that need a speed source (``sessions.speed_source``); session column ``median_<key>``.
Shown, not judged against the baseline (comparability is by cadence)."""

BY_KEY: dict[str, Metric] = {m.key: m for m in (*METRICS, *SPEED_METRICS)}


def pace_text(s_per_km: float | None) -> str:
    """``5:12 min/km`` for 312.5 s/km (``n/a`` for missing)."""
    if s_per_km is None or s_per_km != s_per_km or s_per_km <= 0:
        return "n/a"
    m, s = divmod(round(s_per_km), 60)
    return f"{m}:{s:02d} min/km"


def duration_text(seconds: float | None) -> str:
    """How long something lasted, in words that read well at every length: ``30 s``, ``1 min 30 s``
    (under 10 min), ``13 min``, ``1 h 2 min`` (``n/a`` for missing or negative). The one place the
    reports, the clinic page and the demo say a duration.
    """
    if seconds is None or seconds != seconds or seconds < 0:
        return "n/a"
    total_s = round(seconds)
    if total_s < 60:
        return f"{total_s} s"
    if total_s < 600:
        m, s = divmod(total_s, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(round(seconds / 60), 60)
    return f"{h} h {m} min" if h and m else f"{h} h" if h else f"{m} min"


def rate_text(hz: float | None) -> str:
    """A sample rate for people: ``100 Hz`` for 99.993 Hz (a phone's median interval under timestamp
    jitter), ``208 Hz``, ``101.4 Hz`` (``n/a`` for missing).

    Whole hertz when within 0.05 Hz of one; the nearest multiple of 10 Hz when within 1 % of it (a
    nominal phone rate read off a jittered clock); otherwise one decimal, as measured.
    """
    if hz is None or hz != hz or hz <= 0 or hz == float("inf"):
        return "n/a"
    if abs(hz - round(hz)) < 0.05:
        return f"{round(hz)} Hz"
    tens = 10 * round(hz / 10)
    if tens and abs(hz - tens) <= 0.01 * tens:
        return f"{tens} Hz"
    return f"{hz:.1f} Hz"


VALIDATED_RATE_HZ = (50.0, 200.0)
"""Sample rates the step events were checked at on real data: every real walking trial resampled to
50-200 Hz (``benchmarks/walk_rates.py``, docs/validation_log.md); running, alcantara at 50-500 Hz
(``benchmarks/rate_sensitivity.py``). Below 50 Hz running contacts move: at 25 Hz IC -13.5 ± 12.3 ms,
TO -5.1 ± 17.3 ms, contact time +7.8 %, vGRF RMSE 0.211 BW (500 Hz: +2.1 ± 8.3, -2.5 ± 11.6 ms, 0.180)."""
RATE_BIAS_PCT: dict[str, tuple[tuple[float, float], ...]] = {
    "impact_peak_g": ((25.0, -25.4), (50.0, -15.4), (100.0, -3.6), (200.0, -0.8), (500.0, 0.0)),
    "loading_rate_g_per_s": ((25.0, -67.7), (50.0, -16.3), (100.0, -2.5), (200.0, 0.7), (500.0, 0.0)),
    "contact_time_s": ((25.0, 7.8), (50.0, 1.8), (100.0, 0.5), (200.0, 0.0), (500.0, 0.0)),
}
"""(rate Hz, % change of the median against 500 Hz) of the metrics a sample rate moves: real running
(alcantara_treadmill, 21 trials, resampled from 500 Hz; ``benchmarks/rate_sensitivity.py``, pipeline
0.14.0, docs/validation_log.md "Running metrics at low sample rates"). A trend across sessions at
different rates says how much of its change the rates alone make (:func:`rate_bias_pct`)."""


def rate_bias_pct(key: str, rate_hz: float | None) -> float | None:
    """% by which metric ``key`` reads off at ``rate_hz`` against 500 Hz (:data:`RATE_BIAS_PCT`,
    linear in log rate between its rates, its end values beyond them); None: not rate-sensitive or
    rate unknown.
    """
    table = RATE_BIAS_PCT.get(key)
    if table is None or rate_hz is None or not rate_hz > 0:
        return None
    hz, pct = np.asarray(table).T
    return float(np.interp(np.log(rate_hz), np.log(hz), pct))


SHORT_SESSION_STEPS = 40
"""Fewer steps than this (of the session's activity): too short for step regularity, symmetry and
the left/right asymmetries. 40 steps are 20 strides, 20 steps a side: regularity and symmetry read
the autocorrelation at one and two steps' lag, which needs repeated strides (Moe-Nilssen &
Helbostad 2004 used whole 10-20 stride walks), and a side's median of 20 steps varies by about a
quarter of the step-to-step spread, so a 5 % class boundary can be told. About 14 s of running,
22 s of walking; a minute of gait gives comfortably more."""


def show_speed_metric(m: Metric, value: float | None) -> str:
    """A speed metric's value with its unit (pace as minutes:seconds per km)."""
    return pace_text(value) if m.key == "pace_s_per_km" else m.show_unit(value)


NO_SPEED_TEXT = ("No speed source: pace and stride length need GPS (a phone export with location) or the "
                 "treadmill speed (imuback process --speed-mps, or the clinic page's upload form). "
                 "They are left empty, never guessed.")
"""What the reports say where a session has no speed (``speed_source`` none)."""


def speed_source_text(row: Mapping[str, Any]) -> str:
    """Where a session's speed comes from, in words (``NO_SPEED_TEXT`` without one)."""
    source = row.get("speed_source")
    if source == "treadmill":
        v = _finite_or_none(row.get("treadmill_speed_mps"))
        kmh = f" ({v * 3.6:.1f} km/h)" if v is not None else ""
        return f"treadmill belt speed given: {BY_KEY['speed_mps'].show_unit(v)}{kmh}"
    if source == "gps":
        cover = _finite_or_none(row.get("speed_coverage_pct"))
        share = f"{cover:.0f} %" if cover is not None else "n/a"
        return f"the phone's GPS, on {share} of the steps summarised (GPS speed is not validated by imuback)"
    return NO_SPEED_TEXT


def _finite_or_none(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


ASYMMETRIES: tuple[Metric, ...] = tuple(
    Metric(key=f"asymmetry_{m.side}_pct", label=f"{m.label} asymmetry", unit="%", decimals=1,
           floor=2.0, fallback=3.0)
    for m in METRICS if m.side is not None
)
"""Left/right asymmetries 100*(L-R)/mean(L,R); positive = left higher. Column = key."""

ASYM_BY_SIDE: dict[str, Metric] = {
    m.side: a for m, a in zip((m for m in METRICS if m.side), ASYMMETRIES, strict=True)
    if m.side is not None
}

ASYM_BY_KEY: dict[str, Metric] = {
    a.key: m for m, a in zip((m for m in METRICS if m.side), ASYMMETRIES, strict=True)
}
"""The metric behind each asymmetry column (``asymmetry_impact_peak_pct`` -> impact)."""

DRIFT_KEYS = (
    "contact_time_s",
    "impact_peak_g",
    "pelvis_obliquity_deg",
    "pelvis_rotation_deg",
    "ml_excursion_cm",
)
"""Within-run drift metrics (session columns ``drift_<key>_pct`` and ``drift_<key>_per_10min``)."""

TREND_KEYS = (
    "impact_peak_g",
    "grf_peak_bw",
    "contact_time_s",
    "cadence_spm",
    "vertical_oscillation_cm",
    "pelvis_rotation_deg",
    "pelvis_obliquity_deg",
    "pelvis_tilt_deg",
    "ml_excursion_cm",
    "flight_time_s",
    "loading_rate_g_per_s",
)
"""Metrics with a weekly trend plot, in report order."""


SIDES_CHECKED_RUNNING = f"left/right labels in running: {SIMULATION_ONLY}"
"""Which foot a running step was: no real reference (docs/validation.md, note 4)."""
DRIFT_CHECKED = f"the drift and its interval: {SIMULATION_ONLY}"
"""Within-run drift and its 95 % interval: checked on simulated runs only (docs/validation.md)."""


def checked_on_column(name: str | None) -> str | None:
    """Where the accuracy of a report column was checked, in words (None: not a metric's column).

    ``name``: ``median_<key>``, ``left_<key>`` / ``right_<key>`` (plus :data:`SIDES_CHECKED_RUNNING`),
    ``asymmetry_<side>_pct`` (its metric's, plus the same), ``drift_<key>`` (plus
    :data:`DRIFT_CHECKED`) or ``asymmetry`` (left/right labels only). Running steps: the trends
    compare running. The one source is :attr:`Metric.checked_on` (docs/validation.md's table).
    """
    if name is None:
        return None
    if name == "asymmetry":
        return SIDES_CHECKED_RUNNING
    if name in ASYM_BY_KEY:
        return f"{ASYM_BY_KEY[name].checked_on}; {SIDES_CHECKED_RUNNING}"
    stem, _, key = name.partition("_")
    m = BY_KEY.get(key)
    if m is None:
        return None
    if stem in ("left", "right"):
        return f"{m.checked_on}; {SIDES_CHECKED_RUNNING}"
    if stem == "drift":
        return m.checked_on if m.checked_on == SIMULATION_ONLY else f"{m.checked_on}; {DRIFT_CHECKED}"
    return m.checked_on if stem == "median" else None


def is_simulation_only(checked_on: str | None) -> bool:
    """Whether a :func:`checked_on_column` text says the metric itself was checked on simulation only."""
    return checked_on is not None and checked_on.startswith(SIMULATION_ONLY)


def asymmetry_class(value_pct: float | None) -> str:
    """``normal`` (0-5 %), ``watch`` (5-10 %), ``notable`` (> 10 %) or ``n/a``."""
    if value_pct is None or value_pct != value_pct:
        return "n/a"
    a = abs(value_pct)
    if a > ASYM_NOTABLE_PCT:
        return "notable"
    if a > ASYM_NORMAL_PCT:
        return "watch"
    return "normal"


def higher_side(value_pct: float) -> str:
    """Which side is higher for an asymmetry 100*(L-R)/mean: ``left`` or ``right``."""
    return "left" if value_pct > 0 else "right"


def contact_balance_left_pct(asymmetry_pct: float) -> float:
    """Left share of contact time, L/(L+R) in %, from 100*(L-R)/mean(L,R) (50 % = even)."""
    return 50.0 + asymmetry_pct / 4.0


def percent_text(pct: float) -> str:
    """``12 %``, with a share above 0 that would round to 0 said as ``under 1 %``."""
    return "under 1 %" if 0 < pct < 0.5 else f"{pct:.0f} %"


def count(n: int, noun: str) -> str:
    """``1 session``, ``2 sessions``: a number with its noun, singular or plural (regular nouns)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


FLAGGED_ASYMMETRY: frozenset[str] = frozenset(
    side for m in METRICS if m.side is not None and m.flag_asymmetry for side in (m.side,))
"""Sides whose asymmetry the reports flag by the 0-5-10 % classes."""
