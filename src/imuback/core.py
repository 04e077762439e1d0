"""In-memory session types, below everything: :class:`RawSession` (sensor frame, as recorded)
and :class:`ImuBlock` (uniformly sampled, sensor or body frame). Validated when built.

Body frame: x forward (anterior), y left, z up; right-handed. Sensor frame: the chip's own axes.
See docs/frames.md and docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from imuback.errors import RawFormatError, SignalError, UnitsError

F64 = npt.NDArray[np.float64]
MIN_RATE_HZ = 1.0
MAX_RATE_HZ = 10_000.0
"""Plausible sample rates of a body-worn IMU (Hz)."""
UNITS_MIN_S = 2.0
"""Units are judged on sessions of at least this many seconds: over a few strides the mean
specific force has magnitude g; a handful of samples may all fall in a flight phase."""
RATE_TOLERANCE = 1.5
"""The median sample interval may differ from the declared rate's by at most this factor
(sensor clocks drift by ppm, not by tens of %; a rate 10x off is a wrong header)."""
ACC_COLUMNS = ("acc_x", "acc_y", "acc_z")
"""Names of the accelerometer columns (m/s², sensor frame) in every raw table."""
GYR_COLUMNS = ("gyr_x", "gyr_y", "gyr_z")
"""Names of the gyroscope columns (deg/s, sensor frame) in every raw table."""

MAX_SPEED_MPS = 100.0
"""Largest plausible GPS ground speed (m/s) of a session's speed channel (a fix above is an error)."""

G_MPS2 = 9.80665
"""Standard gravity (m/s²), used to convert g <-> m/s²."""

MOUNTING_SOURCES = ("file", "given", "assumed")
"""Where a session's nominal mounting comes from: the file (or its format's specification), the
user, or nowhere (the identity assumed: the file did not say how the sensor was worn)."""

START_SOURCES = ("file", "given")
"""Where a session's first sample time comes from: the file (its dates, its clock) or the user
(``--start``, ``start=``: a file timed from its start)."""

ZONE_SOURCES = ("given", "file", "computer")
"""Where ``utc_offset_min`` comes from: ``"given"`` (``--time-zone``, ``time_zone=``, ``--start`` written
with its offset), ``"file"`` (the file states it) or ``"computer"`` (``imuback record``'s machine zone, a
guess that a zone given later replaces)."""

MAX_UTC_OFFSET_MIN = 18 * 60
"""Largest UTC offset (minutes) a session's local clock may have: Python's and ISO 8601's bound
(the world's zones run from -12:00 to +14:00)."""

_SAFE_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


MAX_ID_LEN = 64
"""Longest runner or session id: ids name folders and files of the dataset."""


def check_id(value: str, *, what: str, source: str) -> str:
    """Return ``value`` if it is a safe identifier (letters, digits, ``._-``, at most ``MAX_ID_LEN``), else raise."""
    if len(value) > MAX_ID_LEN:
        raise RawFormatError(f"{source}: {what} is {len(value)} characters long ({value[:20]!r}...); ids may "
                             f"have at most {MAX_ID_LEN}: give a shorter one")
    if not value or not set(value) <= _SAFE_ID or value.startswith("."):
        raise RawFormatError(
            f"{source}: {what} {value!r} must be non-empty and use only letters, digits, '.', '_', '-'"
        )
    return value


NOT_3X3 = "must be a 3x3 rotation matrix of finite numbers"
"""What :func:`rotation_problem` says of a value that is not 3x3 finite numbers."""


def rotation_problem(m: F64) -> str | None:
    """What keeps the mounting ``m`` from being a proper rotation R (``v_body = R @ v_sensor``; rows =
    body x, y, z in sensor axes), worded to follow the value's name (``mounting= is a reflection...``):
    :data:`NOT_3X3`, rows not orthonormal (within 1e-3) or a reflection (det -1); None for a rotation.
    The one check of ``RawSession.mounting``, ``mounting=`` and ``--mounting``.
    """
    if m.shape != (3, 3) or not np.isfinite(m).all():
        return NOT_3X3
    if not np.allclose(m @ m.T, np.eye(3), atol=1e-3):
        return "must be a rotation matrix (orthonormal rows: body x, y, z in sensor axes)"
    if np.linalg.det(m) < 0:
        return "is a reflection (det -1), not a rotation matrix: one axis is flipped; fix the sign of one row"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """The file a :class:`RawSession` was read from, as a dataset records it: processing the session
    stores these (``sessions.source_path``, ``sessions.source_sha256``) as processing the file does.
    """

    path: str
    """Absolute path of the file (a folder for an unzipped phone export)."""
    sha256: str
    """SHA-256 of the bytes that make its sessions (``imuback.formats.file_sha256``)."""
    format: str
    """The format it was read as (``imuback.formats.FORMATS``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RawSession:
    """One recorded session in the sensor frame, as the raw contract defines it.

    Attributes
    ----------
    time_ns : (N,) int64, strictly increasing sample times, ns since epoch, UTC.
    acc_mps2 : (N, 3) float32, specific force in m/s², sensor frame, incl. gravity.
    gyr_dps : (N, 3) float32 in deg/s, sensor frame, or None for accelerometer-only sensors.
    mounting : (3, 3) float64 nominal rotation R with v_body ≈ R @ v_sensor.
    mounting_source : where ``mounting`` comes from (:data:`MOUNTING_SOURCES`): ``"file"`` (the file
        or its format states it), ``"given"`` (the user: ``mounting=``, ``--mounting``) or
        ``"assumed"`` (nobody said how the sensor was worn: the identity, a placeholder).
    gaps : gap log from the collector (list of dicts), may be empty.
    speed_mps : (N,) float32 GPS ground speed in m/s at each sample (a phone's location fixes
        interpolated onto the sample times), NaN where there is no valid fix; None without GPS.
    utc_offset_min : the local clock's offset from UTC at the first sample, in minutes (+60: UTC+01:00),
        where the recording was made (a zone given or stated by the file); None: unknown. Sample
        times stay UTC; reports cut the session's day and week in this local time.
    utc_offset_source : where ``utc_offset_min`` comes from (:data:`ZONE_SOURCES`); None where the
        offset is None, ``"file"`` when an offset comes without one.
    acc_absent : accelerometer columns the sensor does not have (a two-axis accelerometer, its
        file without that column): at most one of :data:`ACC_COLUMNS`, reading 0 throughout. Any
        other axis that is exactly constant while the sensor moves is a dead axis and refused.
    start_source : where the first sample's time comes from (:data:`START_SOURCES`): ``"file"`` (its
        dates or clock) or ``"given"`` (``--start``, ``start=``, for a file timed from its start).
    file : the file it was read from (:class:`SourceFile`, set by ``imuback.formats.read_sessions``);
        None for a session built in memory. Kept by ``dataclasses.replace``: set it to None when the
        samples no longer are the file's.
    """

    session_id: str
    runner_id: str
    sensor: str
    sample_rate_hz: float
    time_ns: npt.NDArray[np.int64]
    acc_mps2: npt.NDArray[np.float32]
    gyr_dps: npt.NDArray[np.float32] | None
    mounting: npt.NDArray[np.float64] = field(default_factory=lambda: np.eye(3))
    mounting_source: str = "file"
    gaps: tuple[dict[str, Any], ...] = ()
    acc_range_g: float | None = None
    gyr_range_dps: float | None = None
    source: str = "<memory>"
    speed_mps: npt.NDArray[np.float32] | None = None
    acc_absent: tuple[str, ...] = ()
    utc_offset_min: int | None = None
    utc_offset_source: str | None = None
    start_source: str = "file"
    file: SourceFile | None = None

    def __post_init__(self) -> None:
        for name, dtype in (("time_ns", np.int64), ("acc_mps2", np.float32), ("gyr_dps", np.float32),
                            ("mounting", np.float64), ("speed_mps", np.float32)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, np.ndarray):  # lists from a user: arrays
                try:
                    object.__setattr__(self, name, np.asarray(value, dtype=dtype))
                except (TypeError, ValueError):
                    raise RawFormatError(f"{self.source}: {name} must be an array of numbers") from None
        n = self.time_ns.shape[0]
        if self.time_ns.ndim != 1 or self.acc_mps2.shape != (n, 3):
            raise RawFormatError(f"{self.source}: time must be (N,) and acc (N, 3); got "
                                 f"{self.time_ns.shape} and {self.acc_mps2.shape}")
        if self.gyr_dps is not None and self.gyr_dps.shape != (n, 3):
            raise RawFormatError(f"{self.source}: gyro must be (N, 3); got {self.gyr_dps.shape}")
        if self.speed_mps is not None:
            if self.speed_mps.shape != (n,):
                raise RawFormatError(f"{self.source}: speed_mps must be (N,) like time; got {self.speed_mps.shape}")
            bad_speed = ~(np.isnan(self.speed_mps) | ((self.speed_mps >= 0) & (self.speed_mps < MAX_SPEED_MPS)))
            if bad_speed.any():
                raise RawFormatError(f"{self.source}: speed_mps has {int(bad_speed.sum())} values that are not a "
                                     f"ground speed (0-{MAX_SPEED_MPS:g} m/s, or NaN for no fix), first at row "
                                     f"{int(np.flatnonzero(bad_speed)[0])}")
        self._check_declared()
        for cols, a in ((ACC_COLUMNS, self.acc_mps2), (GYR_COLUMNS, self.gyr_dps)):
            if a is None or np.isfinite(a.sum()):  # one fast pass; NaN/inf make the sum non-finite
                continue
            bad = np.flatnonzero(~np.isfinite(a).all(axis=1))
            if bad.size:
                col = cols[int(np.flatnonzero(~np.isfinite(a[bad[0]]))[0])]
                raise RawFormatError(f"{self.source}: column {col!r} has NaN/inf values in {bad.size} rows "
                                     f"(first at row {bad[0]}); missing samples must be missing rows, so drop them")
        self._check_absent()
        self._check_time(n)
        if n >= UNITS_MIN_S * self.sample_rate_hz:  # a few samples may all lie in a flight phase
            check_units(self.acc_mps2, self.gyr_dps, source=self.source, acc_absent=self.acc_absent)
        for arr in (self.time_ns, self.acc_mps2, self.gyr_dps, self.mounting, self.speed_mps):
            if arr is not None:
                arr.flags.writeable = False

    def _check_declared(self) -> None:
        """The declared figures: a proper rotation as mounting, a plausible rate, positive ranges."""
        if self.start_source not in START_SOURCES:
            raise RawFormatError(f"{self.source}: start_source {self.start_source!r} is not one of "
                                 f"{list(START_SOURCES)}")
        if self.mounting_source not in MOUNTING_SOURCES:
            raise RawFormatError(f"{self.source}: mounting_source {self.mounting_source!r} is not one of "
                                 f"{list(MOUNTING_SOURCES)}")
        problem = rotation_problem(np.asarray(self.mounting, dtype=np.float64))
        if problem is not None:
            raise RawFormatError(f"{self.source}: the mounting (imuback.mounting) {problem}")
        if not (np.isfinite(self.sample_rate_hz) and MIN_RATE_HZ <= self.sample_rate_hz <= MAX_RATE_HZ):
            raise RawFormatError(f"{self.source}: sample rate (imuback.sample_rate_hz) {self.sample_rate_hz} Hz "
                                 f"is not plausible ({MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz)")
        off = self.utc_offset_min
        if off is not None and (isinstance(off, bool) or not isinstance(off, (int, np.integer))
                                or abs(int(off)) > MAX_UTC_OFFSET_MIN):
            raise RawFormatError(f"{self.source}: utc_offset_min {off!r} is not a UTC offset in whole minutes "
                                 f"(-{MAX_UTC_OFFSET_MIN} to {MAX_UTC_OFFSET_MIN}; +60 is UTC+01:00)")
        if off is not None:
            object.__setattr__(self, "utc_offset_min", int(off))
        if self.utc_offset_source is not None and self.utc_offset_source not in ZONE_SOURCES:
            raise RawFormatError(f"{self.source}: utc_offset_source {self.utc_offset_source!r} is not one of "
                                 f"{list(ZONE_SOURCES)}")
        object.__setattr__(self, "utc_offset_source", None if off is None else self.utc_offset_source or "file")
        for key, value in (("acc_range_g", self.acc_range_g), ("gyr_range_dps", self.gyr_range_dps)):
            if value is not None and not (np.isfinite(value) and value > 0):
                raise RawFormatError(f"{self.source}: imuback.{key} = {value} is not a sensor range; it must be "
                                     "a positive number (or absent when unknown)")

    def _check_absent(self) -> None:
        """At most one declared absent accelerometer axis, a contract column that reads 0 throughout."""
        object.__setattr__(self, "acc_absent", tuple(self.acc_absent))
        unknown = [c for c in self.acc_absent if c not in ACC_COLUMNS]
        if unknown or len(set(self.acc_absent)) != len(self.acc_absent):
            raise RawFormatError(f"{self.source}: acc_absent {list(self.acc_absent)} must name distinct columns "
                                 f"of {list(ACC_COLUMNS)}")
        if len(self.acc_absent) > 1:
            raise RawFormatError(f"{self.source}: accelerometer column(s) {list(self.acc_absent)} are absent; a "
                                 "session needs at least two accelerometer axes to find gravity and the steps")
        for c in self.acc_absent:
            if np.any(self.acc_mps2[:, ACC_COLUMNS.index(c)]):
                raise RawFormatError(f"{self.source}: column {c!r} is declared absent (acc_absent) but holds "
                                     "values other than 0; an absent axis reads 0")

    def _check_time(self, n: int) -> None:
        """Sample times strictly increase and match the declared rate (within ``RATE_TOLERANCE``)."""
        if n < 2:
            return
        dt = np.diff(self.time_ns)
        bad = np.flatnonzero(dt <= 0)
        if bad.size:
            kind = "duplicate" if dt[bad[0]] == 0 else "decreasing (non-monotonic)"
            raise RawFormatError(f"{self.source}: column 'time' has {bad.size} {kind} timestamps "
                                 f"(first at row {bad[0] + 1}); times must strictly increase")
        step = max(1, dt.size // 20000)  # ~20k intervals tell the rate as well as all of them
        data_hz = 1e9 / float(np.median(dt[::step]))
        if not 1 / RATE_TOLERANCE <= data_hz / self.sample_rate_hz <= RATE_TOLERANCE:
            raise RawFormatError(f"{self.source}: declared sample rate {self.sample_rate_hz:g} Hz but the samples "
                                 f"are {data_hz:.4g} Hz apart (median interval); fix imuback.sample_rate_hz")

    @property
    def n_samples(self) -> int:
        """Number of samples (rows)."""
        return int(self.time_ns.shape[0])



def check_units(acc: npt.NDArray[np.float32], gyr: npt.NDArray[np.float32] | None, *, source: str,
                acc_absent: tuple[str, ...] = ()) -> None:
    """Raise :class:`UnitsError` when acc is not in m/s² or gyro looks like rad/s, or one sensor axis is dead.

    Over any session the mean specific force has magnitude g (≈ 9.81 m/s²): a median norm near 1
    means the file is in g. A gyroscope whose 99th percentile |gyr| is under 6 while |acc| varies
    (SD > 0.5 m/s²) is refused: over the 58 real walking trials of ../shared/data |acc|'s SD is
    0.76-2.53 m/s² and the gyroscope's 99th percentile 38-179 deg/s (0.67-3.1 in rad/s). One that
    reads 0 throughout is dead or disabled: refused too (it would read as "no pelvis rotation").
    An accelerometer axis that stays at the quantisation level while |acc| varies (SD > 0.5 m/s²,
    the same "moving" as for the gyroscope) is dead: its SD is at most :data:`DEAD_AXIS_SD_LSB`
    steps of the file's own resolution (one value throughout, or toggling between adjacent ADC
    codes). A live axis carries noise and a share of gravity and of every step, so it never stays
    there while the body moves, and a dead one would corrupt the sensor-to-body alignment. Axes
    named in ``acc_absent`` (a declared two-axis sensor) are not judged.
    """
    step = max(1, acc.shape[0] // 20000)  # ~20k samples decide the units as well as all of them
    sub_norm = np.linalg.norm(acc[::step].astype(np.float64), axis=1)  # float64: a corrupt 1e30 row must not overflow
    norm = float(np.median(sub_norm))
    if 0.3 <= norm <= 3.0:
        raise UnitsError(f"{source}: acceleration looks like it is in g (median |acc| = {norm:.2f}); "
                         f"the raw contract wants m/s²: multiply acc_x/y/z by {G_MPS2}", kind="acc_in_g")
    if not 3.0 < norm < 30.0:
        raise UnitsError(f"{source}: median |acc| = {norm:.3g} is not gravity in m/s² (≈ 9.81); "
                         "check the accelerometer scale factor", kind="acc_scale")
    moving = float(np.std(sub_norm)) > 0.5
    if moving:
        _check_dead_axis(acc, step=step, acc_absent=acc_absent, source=source)
    if gyr is not None and gyr.shape[0] > 100:
        p99 = float(np.percentile(np.abs(gyr[::step]), 99))
        if moving and p99 == 0.0 and not np.any(gyr):
            raise UnitsError(f"{source}: the gyroscope reads 0 on every axis throughout while the accelerometer "
                             "moves: a dead or disabled gyroscope; leave its columns out to process the "
                             "accelerometer alone", kind="gyr_dead")
        if moving and 0 < p99 < 6.0:
            raise UnitsError(f"{source}: the gyroscope barely turns (99th percentile |gyr| = {p99:.2f}) while "
                             "the accelerometer shakes: either it is in rad/s (the raw contract wants deg/s: "
                             "multiply by 57.2958) or the sensor was not worn (no gait to find)",
                             kind="gyr_rad_s")


DEAD_AXIS_SD_LSB = 1.0
"""An accelerometer axis whose SD is at most this many of the file's quantisation steps
(:func:`acc_resolution_mps2`) while |acc| varies is dead. Physics and the ADC, not data: an axis
stuck on one code has SD 0, one toggling between two adjacent codes at most 0.5 step, one with a
code of noise about 0.7; a live axis on a moving body carries a share of gravity and of every step
(tens of steps). Margin on every real and simulated recording: ``python benchmarks/dead_axis.py``
(docs/data_contract.md)."""


def acc_resolution_mps2(acc: npt.NDArray[np.floating[Any]], axes: npt.ArrayLike) -> float:
    """The accelerometer's resolution as the file shows it: the smallest step between two distinct
    values of any of ``axes`` (columns of ``acc``, (N, 3) m/s²), in m/s².

    A quantised sensor's LSB (16-bit ±16 g: 0.0048 m/s²), or the text's last digit (a CSV written to
    0.01 m/s²); float data that was never quantised gives a tiny step, so only an exactly constant
    axis is then dead. 0.0 when no axis takes two values.
    """
    steps = [np.diff(np.unique(acc[:, int(i)].astype(np.float64))) for i in np.atleast_1d(axes)]
    every = np.concatenate(steps) if steps else np.empty(0)
    return float(every.min()) if every.size else 0.0


def _check_dead_axis(acc: npt.NDArray[np.float32], *, step: int, acc_absent: tuple[str, ...], source: str) -> None:
    """Raise ``UnitsError(kind="acc_dead")`` when an accelerometer axis not in ``acc_absent`` stays at the
    quantisation level: its SD at most :data:`DEAD_AXIS_SD_LSB` steps of the file's resolution
    (exactly constant included), judged on every ``step``-th sample, confirmed on all of them.
    """
    judged = np.array([i for i, c in enumerate(ACC_COLUMNS) if c not in acc_absent])
    if judged.size == 0:
        return
    sub = acc[::step][:, judged].astype(np.float64)
    lsb = acc_resolution_mps2(sub, np.arange(judged.size))
    for i in judged[np.std(sub, axis=0) <= DEAD_AXIS_SD_LSB * lsb]:  # at most 3 axes
        col, full = ACC_COLUMNS[int(i)], acc[:, int(i)].astype(np.float64)
        sd = float(np.std(full))
        if sd > DEAD_AXIS_SD_LSB * lsb:
            continue
        low, high = float(full.min()), float(full.max())
        reads = (f"reads {low:g} m/s² on every sample" if low == high else
                 f"stays at the quantisation level (SD {sd:.3g} m/s², {low:g} to {high:g} m/s², at most "
                 f"{DEAD_AXIS_SD_LSB:g} of the file's {lsb:.3g} m/s² steps)")
        raise UnitsError(f"{source}: column {col!r} {reads} while the other axes move: a dead accelerometer "
                         "axis, which would corrupt the sensor-to-body alignment; check the sensor, or if it "
                         f"really has only two axes leave {col!r} out of the file and declare it, "
                         f'"imuback.acc_absent": "{col}" (a CSV\'s sidecar, a Parquet file\'s metadata; '
                         "acc_absent= on a RawSession built in Python)", kind="acc_dead")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImuBlock:
    """Uniformly sampled IMU data split into contiguous segments.

    Attributes
    ----------
    t_s : (N,) float64, seconds since ``t0_ns``; uniform at ``fs_hz`` inside each segment.
    acc_mps2 : (N, 3) float64 specific force, m/s², in ``frame``.
    gyr_dps : (N, 3) float64 angular velocity, deg/s, in ``frame``; None without gyro.
    frame : "sensor" or "body".
    fs_hz : sample rate of the grid.
    seg_bounds : (K + 1,) int64; segment k is samples ``[seg_bounds[k], seg_bounds[k + 1])``.
        Gaps in the recording fall between segments; nothing is interpolated across them.
    t0_ns : int, UTC ns of ``t_s == 0``.
    """

    t_s: F64
    acc_mps2: F64
    gyr_dps: F64 | None
    frame: Literal["sensor", "body"]
    fs_hz: float
    seg_bounds: npt.NDArray[np.int64]
    t0_ns: int

    def __post_init__(self) -> None:
        n = self.t_s.shape[0]
        if self.acc_mps2.shape != (n, 3):
            raise SignalError(f"ImuBlock: acc_mps2 must be ({n}, 3), got {self.acc_mps2.shape}")
        if self.gyr_dps is not None and self.gyr_dps.shape != (n, 3):
            raise SignalError(f"ImuBlock: gyr_dps must be ({n}, 3), got {self.gyr_dps.shape}")
        b = self.seg_bounds
        if b.ndim != 1 or b.size < 1 or b[0] != 0 or b[-1] != n or np.any(np.diff(b) < 0):
            raise SignalError(f"ImuBlock: seg_bounds must run from 0 to {n}, non-decreasing; got {b}")
        for a in (self.t_s, self.acc_mps2, self.gyr_dps, self.seg_bounds):
            if a is not None:
                a.flags.writeable = False

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.t_s.shape[0])

    def segment_ids(self) -> npt.NDArray[np.int64]:
        """(N,) index of the segment each sample belongs to."""
        ids = np.zeros(self.n, dtype=np.int64)
        ids[self.seg_bounds[1:-1]] = 1
        return np.cumsum(ids)

    def rotated(self, r: F64) -> ImuBlock:
        """The same block in the body frame: every vector becomes ``r @ v``.

        The body-frame arrays are column-major (each axis contiguous): the stages read them one
        axis at a time, and ``(r @ a.T).T`` is also the fastest product here.
        """
        return ImuBlock(
            t_s=self.t_s,
            acc_mps2=(r @ self.acc_mps2.T).T,
            gyr_dps=None if self.gyr_dps is None else (r @ self.gyr_dps.T).T,
            frame="body",
            fs_hz=self.fs_hz,
            seg_bounds=self.seg_bounds,
            t0_ns=self.t0_ns,
        )
