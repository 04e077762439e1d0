"""The on-disk data contract: raw session and processed tables, with units and descriptions.

Every field carries ``unit`` and ``description`` metadata; every file carries
``imuback.schema_version``. Documented for people in ``docs/data_contract.md``.
Body frame: x forward, y left, z up. Sensor frame: whatever the chip's axes are.
"""

from __future__ import annotations

import pyarrow as pa

from imuback.core import ACC_COLUMNS as ACC_COLUMNS
from imuback.core import GYR_COLUMNS as GYR_COLUMNS

SCHEMA_VERSION = "1.9"
"""Major.minor. A minor bump adds columns; a major bump renames, removes or changes a meaning."""

TIME_TYPE = pa.timestamp("ns", tz="UTC")

# --- raw session file metadata keys -------------------------------------------------------
META_SCHEMA_VERSION = "imuback.schema_version"
META_SESSION_ID = "imuback.session_id"
META_RUNNER_ID = "imuback.runner_id"
META_SENSOR = "imuback.sensor"
META_SAMPLE_RATE_HZ = "imuback.sample_rate_hz"
META_MOUNTING = "imuback.mounting"
"""JSON 3x3 row-major rotation R with v_body ≈ R @ v_sensor (nominal mounting)."""
META_GAPS = "imuback.gaps"
"""Optional JSON list of {"start": iso, "end": iso, "samples_lost": int, "reason": str}."""
META_ACC_RANGE_G = "imuback.acc_range_g"
"""Optional full-scale accelerometer range (g), used to flag saturation."""
META_GYR_RANGE_DPS = "imuback.gyr_range_dps"
"""Optional full-scale gyroscope range (deg/s), used to flag saturation."""
META_ACC_ABSENT = "imuback.acc_absent"
"""Optional: the accelerometer column a two-axis sensor lacks (e.g. ``acc_y``), left out of the file.
A missing acc column is read as such only when declared here (a misspelt header is an error)."""

META_MOUNTING_ASSUMED = "imuback.mounting_assumed"
"""Optional ``true``: nobody said how the sensor was worn, so ``imuback.mounting`` is a placeholder (the
identity; sessions.mounting_source 'assumed'), which a given mounting replaces. Absent or ``false``:
the file states its mounting."""

META_UTC_OFFSET_MIN = "imuback.utc_offset_min"
"""Optional: the local clock's offset from UTC at the first sample, whole minutes (``60``: UTC+01:00),
where the session was recorded (schema 1.8; ``record`` writes the machine's or ``--time-zone``'s).
Absent: unknown (the reports then cut the session's days in UTC)."""

META_UTC_OFFSET_SOURCE = "imuback.utc_offset_source"
"""Optional, with ``imuback.utc_offset_min``: where it came from (schema 1.9), ``given`` (``record
--time-zone``), ``computer`` (``record``'s machine zone: a guess, which a zone given later replaces) or
``file``. Absent (files written before 1.9): as ``file``, kept (another zone given is refused)."""

REQUIRED_RAW_META = (
    META_SCHEMA_VERSION,
    META_SESSION_ID,
    META_RUNNER_ID,
    META_SENSOR,
    META_SAMPLE_RATE_HZ,
    META_MOUNTING,
)



def _f(name: str, type_: pa.DataType, unit: str, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(
        name, type_, nullable=nullable, metadata={"unit": unit, "description": description}
    )


_F32 = pa.float32()
_F64 = pa.float64()
_STR = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()

SPEED_COLUMN = "speed_mps"
"""The optional GPS speed column of a raw session (m/s, null where there is no fix)."""

RAW_SCHEMA = pa.schema(
    [
        _f("time", TIME_TYPE, "ns since epoch, UTC", "sample time (sensor clock mapped to UTC)", False),
        *(_f(c, _F32, "m/s^2", f"specific force along sensor {c[-1]} (incl. gravity)") for c in ACC_COLUMNS),
        *(_f(c, _F32, "deg/s", f"angular velocity about sensor {c[-1]}") for c in GYR_COLUMNS),
        _f(SPEED_COLUMN, _F32, "m/s", "GPS ground speed at this sample (phone location fixes interpolated); "
           "null where there is no valid fix"),
    ]
)
"""Raw session columns. The gyro columns may be absent (accelerometer-only sensors), and so may
``speed_mps`` (sessions without GPS)."""

_ID_FIELDS = [
    _f("session_id", _STR, "", "session identifier", False),
    _f("runner_id", _STR, "", "runner identifier", False),
]

RATE_SENSITIVE: dict[str, float] = {"impact_peak_g": 100.0, "loading_rate_g_per_s": 100.0}
"""Step metrics null below a sample rate (Hz) -- in the steps, in the strides' asymmetry made of them
(:data:`RATE_SENSITIVE_STRIDES`) and in every session median, side, asymmetry and drift column of
them -- and left out of the reports (one rule: :func:`below_rate` of ``sessions.sample_rate_hz``,
the nominal rate). The sacral impact is a ~30 ms transient, so slower sampling cuts its peak. On
real running (alcantara resampled, ``benchmarks/rate_sensitivity.py``) the median impact reads -3.6 %
at 100 Hz, -15.4 % at 50 Hz, -25.4 % at 25 Hz against 500 Hz; the loading-rate index -2.5 %, -16.3 %,
-67.7 % (simulated runners: -6.6 / -9.0 / -8.5 % and -1.7 / -18.3 / -77.3 % against 400 Hz)."""
RATE_SENSITIVE_STRIDES: dict[str, tuple[str, ...]] = {"impact_peak_g": ("impact_asymmetry_pct",)}
"""The strides columns made of a :data:`RATE_SENSITIVE` step metric: null with it."""
RATE_TOLERANCE = 0.01
"""A rate within 1 % under a limit counts as at it (a phone's 99.2 Hz is its nominal 100 Hz)."""


def below_rate(rate_hz: float | None, limit_hz: float) -> bool:
    """Whether a session's ``rate_hz`` is below ``limit_hz`` (by more than :data:`RATE_TOLERANCE`);
    an unknown rate is not below.
    """
    return rate_hz is not None and rate_hz == rate_hz and rate_hz < limit_hz * (1 - RATE_TOLERANCE)


def rate_left_out(rate_hz: float | None) -> tuple[str, ...]:
    """The :data:`RATE_SENSITIVE` step metrics a session sampled at ``rate_hz`` stores as null."""
    return tuple(k for k, limit in RATE_SENSITIVE.items() if below_rate(rate_hz, limit))


def _below_rate_text(metric: str) -> str:
    """What a column made of ``metric`` says of its null below the rate (empty if not rate-sensitive)."""
    limit = RATE_SENSITIVE.get(metric)
    return "" if limit is None else f"; null in a session sampled below {limit:g} Hz (RATE_SENSITIVE)"


STEPS_SCHEMA = pa.schema(
    [
        *_ID_FIELDS,
        _f("step", _I32, "", "0-based step index within the session", False),
        _f("foot", _STR, "", "'L' or 'R': the foot in contact"),
        _f("activity", _STR, "", "'run' or 'walk'"),
        _f("ic_time", TIME_TYPE, "UTC", "initial contact"),
        _f("to_time", TIME_TYPE, "UTC", "toe-off of this contact"),
        _f("step_time_s", _F64, "s", "this IC to the next IC (null at a bout or chain end, at a gap that split the recording, and for a step over a lost-packet gap bridged by interpolation: see the session's status_reason)"),
        _f("contact_time_s", _F64, "s", "toe-off minus initial contact"),
        _f("flight_time_s", _F64, "s", "next IC minus this toe-off (running; null as step_time_s, and without a toe-off)"),
        _f("cadence_spm", _F64, "steps/min", "60 / step_time_s"),
        _f("impact_peak_g", _F64, "g", "peak vertical specific force of the sacrum in contact, body frame, incl. gravity; null for a contact with a clipped (saturated) accelerometer sample, and in a session sampled below 100 Hz (RATE_SENSITIVE: too slow for the ~30 ms landing transient)"),
        _f("grf_peak_bw", _F64, "body weights", "estimated peak vertical GRF (running: the peak of the 8 Hz low-passed sacral vertical specific force blended with the spring-mass peak (pi/2) step time / contact time, weight MetricParams.grf_spring_mass_weight (0.3); the sacral peak alone for a step without a next step or a flight; the spring-mass peak alone for a contact with a clipped accelerometer sample)"),
        _f("loading_rate_g_per_s", _F64, "g/s", "index: mean slope of vertical specific force from IC to its first peak; not a force-plate value; null for a contact with a clipped accelerometer sample, and in a session sampled below 100 Hz (RATE_SENSITIVE)"),
        _f("vertical_oscillation_cm", _F64, "cm", "range of sacral vertical displacement over the step"),
        _f("braking_peak_g", _F64, "g", "peak deceleration in contact: body-x specific force low-passed at 8 Hz, minus its mean over the step, most negative value, sign flipped; null without a contact (no toe-off: walking steps)"),
        _f("braking_impulse_mps", _F64, "m/s", "speed lost to braking in contact: integral of that deceleration where positive; null without a contact, as braking_peak_g"),
        _f("pelvic_drop_deg", _F64, "deg", "largest fall of the swing side of the pelvis from its height at IC, during this foot's stance (body roll, the gyro's roll bias removed: the running median of the stride-mean roll rates over ±10 steps of the chain); null without gyro or foot"),
        _f("quality", _F64, "0..1", "how likely this step's events are right: agreement of its rhythm and shape "
           "with its chain neighbours; walking: calibrated on real recordings (the share of such steps "
           "that were right), running: the agreement score, a ranking; 0 for an IC that fell inside a "
           "lost-packet gap bridged by interpolation"),
        _f("speed_mps", _F64, "m/s", "mean GPS ground speed over the step (IC to the next IC, or to toe-off); "
           "null without GPS or without a valid fix in the step"),
        _f("step_length_m", _F64, "m", "speed x step_time_s (one foot's IC to the other's; Garmin's 'stride "
           "length'), speed from sessions.speed_source; null without a speed"),
        _f("vertical_ratio_pct", _F64, "%", "100 * vertical oscillation / step_length_m (Garmin's vertical ratio); "
           "null without a step length"),
        _f("clipped", pa.bool_(), "", "true: a running contact holding a clipped (saturated) accelerometer "
           "sample: its impact_peak_g and loading_rate_g_per_s are null because unknown (larger than the "
           "sensor read; the session medians count them as larger than every unclipped step), not because "
           "they were not computed; false: a running contact checked and unclipped; null: a step not checked "
           "(walking and other non-running steps) or a row made before schema 1.4"),
    ]
)

STRIDES_SCHEMA = pa.schema(
    [
        *_ID_FIELDS,
        _f("stride", _I32, "", "0-based stride index within the session", False),
        _f("foot", _STR, "", "foot of the first contact"),
        _f("start_time", TIME_TYPE, "UTC", "initial contact that starts the stride"),
        _f("stride_time_s", _F64, "s", "IC to the next IC of the same foot"),
        _f("pelvis_rotation_deg", _F64, "deg", "range of pelvis angle about body z (yaw); null without gyro"),
        _f("pelvis_obliquity_deg", _F64, "deg", "range of pelvis angle about body x (roll); null without gyro"),
        _f("pelvis_tilt_deg", _F64, "deg", "range of pelvis angle about body y (pitch); null without gyro"),
        _f("ml_excursion_cm", _F64, "cm", "range of sacral mediolateral displacement over the stride"),
        _f("ml_acc_rms_g", _F64, "g", "RMS of mediolateral acceleration over the stride"),
        _f("impact_asymmetry_pct", _F64, "%", "100*(L-R)/mean(L,R) of impact_peak_g of the two steps; null "
           "with them (a session sampled below 100 Hz: RATE_SENSITIVE)"),
        _f("contact_asymmetry_pct", _F64, "%", "100*(L-R)/mean(L,R) of contact_time_s of the two steps"),
        _f("stride_length_m", _F64, "m", "sum of the stride's two step lengths (= mean speed x stride_time_s); "
           "null without a speed"),
    ]
)

DRIFT_METRICS = (
    "contact_time_s",
    "impact_peak_g",
    "pelvis_obliquity_deg",
    "pelvis_rotation_deg",
    "ml_excursion_cm",
)
"""Metrics whose within-run drift (fatigue) is summarised per session."""

MEDIAN_METRICS = (
    ("cadence_spm", "steps/min"),
    ("step_time_s", "s"),
    ("contact_time_s", "s"),
    ("flight_time_s", "s"),
    ("impact_peak_g", "g"),
    ("grf_peak_bw", "body weights"),
    ("loading_rate_g_per_s", "g/s"),
    ("vertical_oscillation_cm", "cm"),
    ("braking_peak_g", "g"),
    ("braking_impulse_mps", "m/s"),
    ("pelvic_drop_deg", "deg"),
    ("stride_time_s", "s"),
    ("pelvis_rotation_deg", "deg"),
    ("pelvis_obliquity_deg", "deg"),
    ("pelvis_tilt_deg", "deg"),
    ("ml_excursion_cm", "cm"),
    ("ml_acc_rms_g", "g"),
)
"""Session medians over running steps/strides (walking-only sessions: over walking)."""

SIDE_METRICS = (
    ("contact_time_s", "s", "contact_time"),
    ("flight_time_s", "s", "flight_time"),
    ("impact_peak_g", "g", "impact_peak"),
    ("grf_peak_bw", "body weights", "grf_peak"),
    ("loading_rate_g_per_s", "g/s", "loading_rate"),
    ("braking_peak_g", "g", "braking_peak"),
    ("braking_impulse_mps", "m/s", "braking_impulse"),
    ("pelvic_drop_deg", "deg", "pelvic_drop"),
)
"""Per-foot session medians, with an asymmetry 100*(L-R)/mean(L,R)."""


def _sessions_fields() -> list[pa.Field]:
    fields = [
        *_ID_FIELDS,
        _f("start_time", TIME_TYPE, "UTC", "first sample"),
        _f("duration_s", _F64, "s", "last minus first sample time"),
        _f("sensor", _STR, "", "sensor model / protocol"),
        _f("sample_rate_hz", _F64, "Hz", "nominal sample rate"),
        _f("has_gyro", pa.bool_(), "", "gyroscope columns present"),
        _f("misalignment_deg", _F64, "deg", "angle between the nominal mounting and the body frame found from the data"),
        _f("completeness_pct", _F64, "%", "samples present / samples expected between first and last sample"),
        _f("n_gaps", _I32, "", "number of gaps (missing samples) in the recording"),
        _f("gap_total_s", _F64, "s", "total duration of the missing samples: of the gaps bridged by interpolation and of those that split the recording (status_reason says how much was bridged)"),
        _f("n_run_steps", _I32, "", "steps detected in running bouts"),
        _f("n_walk_steps", _I32, "", "steps detected in walking bouts"),
        _f("run_time_s", _F64, "s", "time in running bouts"),
        _f("walk_time_s", _F64, "s", "time in walking bouts"),
        _f("still_time_s", _F64, "s", "time still (standing, sensor lying)"),
    ]
    fields += [_f(f"median_{m}", _F64, u, f"session median of {m}{_below_rate_text(m)}") for m, u in MEDIAN_METRICS]
    for m, u, short in SIDE_METRICS:
        fields += [
            _f(f"left_{m}", _F64, u, f"median {m} of left-foot steps{_below_rate_text(m)}"),
            _f(f"right_{m}", _F64, u, f"median {m} of right-foot steps{_below_rate_text(m)}"),
            _f(f"asymmetry_{short}_pct", _F64, "%", f"100*(L-R)/mean(L,R) of the side medians of {m}"
               f"{_below_rate_text(m)}"),
        ]
    fields += [
        _f("step_regularity", _F64, "-1..1", "unbiased autocorrelation of vertical acc at one step lag (Moe-Nilssen 2004)"),
        _f("stride_regularity", _F64, "-1..1", "unbiased autocorrelation of vertical acc at one stride lag"),
        _f("step_symmetry", _F64, "0..1", "step_regularity / stride_regularity, capped at 1"),
    ]
    for m in DRIFT_METRICS:
        unit = next(u for name, u in MEDIAN_METRICS if name == m)
        fields += [
            _f(f"drift_{m}_per_10min", _F64, f"{unit}/10 min", f"robust (Theil-Sen) slope of {m} over the running time{_below_rate_text(m)}"),
            _f(f"drift_{m}_pct", _F64, "%", f"% change of {m}: last 10 min vs minutes 2-10 (shorter windows on short runs: docs/pipeline.md){_below_rate_text(m)}"),
            _f(f"drift_{m}_ci95_pct", _F64, "%", f"half-width of the 95 % confidence interval of drift_{m}_pct from the run's own minute-to-minute noise{_below_rate_text(m)}"),
        ]
    fields += [
        _f("status", _STR, "", "'ok', 'partial' (some metrics missing; also a session with lost-packet gaps "
           "of more than 0.1 s bridged by interpolation) or 'empty' (no steps)"),
        _f("status_reason", _STR, "", "why the session is partial or empty, in words"),
        _f("non_gait_reason", _STR, "", "why step-like movement was not counted as steps, in words "
           "(null: none was rejected)"),
        _f("low_quality_step_pct", _F64, "%", "share of steps with quality < 0.5: their events are more "
           "likely wrong than right (walking: calibrated on real data; running: a ranking) (status_reason "
           "says so above 30 %)"),
        _f("source_path", _STR, "", "raw file the rows came from"),
        _f("source_sha256", _STR, "", "SHA-256 of the raw file's bytes and its sidecars' (1.6: BIDS ones too)"),
        _f("pipeline_version", _STR, "", "imuback.PIPELINE_VERSION that made the rows"),
        _f("params_json", _STR, "", "all pipeline parameters as JSON"),
        _f("processed_at", TIME_TYPE, "UTC", "when the rows were made"),
        _f("low_quality_reason", _STR, "", "why the steps counted in low_quality_step_pct are of low quality, "
           "in words: irregular rhythm, unlike step shape or isolated steps, with their shares (null: none is)"),
        _f("n_mounting_shifts", _I32, "", "times the sensor moved on the body mid-session (a re-seat: a step "
           "change of its gravity direction, imuback.signal.mounting); null: made before it was looked for"),
        _f("mounting_shift_max_deg", _F64, "deg", "largest step change of the gravity direction at a re-seat "
           "(null without one)"),
        _f("first_mounting_shift_s", _F64, "s", "time of the first re-seat since the session's first sample "
           "(null without one)"),
    ]
    fields += _speed_fields()
    fields += [
        _f("mounting_source", _STR, "", "where the nominal mounting (misalignment_deg is the angle to it) came "
           "from: 'file' (the file or its format states it), 'given' (imuback process --mounting, mounting= "
           "in Python) or 'assumed' (neither: the identity, so misalignment_deg says nothing about how the "
           "sensor was worn); null: made before it was recorded"),
        _f("mounting_nominal", _STR, "", "the nominal mounting R (v_body = R @ v_sensor) as JSON 3x3, row-major; "
           "null: made before it was recorded"),
        _f("utc_offset_min", _I32, "min", "the local clock's offset from UTC at start_time where the session "
           "was recorded (+60: UTC+01:00; --time-zone, else what the file states); the reports cut its day "
           "and week in that local time; null: unknown (UTC days), or made before schema 1.8"),
        _f("utc_offset_source", _STR, "", "where utc_offset_min comes from: 'given' (--time-zone, time_zone= in "
           "Python, the clinic's Time zone, a --start written with its offset, record --time-zone), 'file' (the "
           "file states it) or 'computer' (imuback record's machine zone, a guess); null where utc_offset_min "
           "is null, or made before schema 1.9"),
    ]
    return fields


SPEED_SOURCES = ("gps", "treadmill", "none")
"""Values of ``sessions.speed_source``: where step lengths and pace come from."""

SPEED_MEDIANS = (
    ("speed_mps", "m/s"),
    ("step_length_m", "m"),
    ("stride_length_m", "m"),
    ("vertical_ratio_pct", "%"),
)
"""Session medians that need a speed source (over the same steps/strides as MEDIAN_METRICS)."""


def _speed_fields() -> list[pa.Field]:
    """Speed, pace, step and stride length of a session (added in schema 1.3, at the end of the sessions columns)."""
    return [
        _f("speed_source", _STR, "", "where step lengths and pace come from: 'gps' (the phone's GPS speed, "
           "steps.speed_mps), 'treadmill' (the belt speed given, treadmill_speed_mps) or 'none'"),
        _f("treadmill_speed_mps", _F64, "m/s", "treadmill belt speed given by the user (imuback process "
           "--speed-mps), applied to the summarised steps; null otherwise"),
        _f("speed_coverage_pct", _F64, "%", "share of the summarised steps (running, else walking) with a speed"),
        *(_f(f"median_{m}", _F64, u, f"session median of {m}") for m, u in SPEED_MEDIANS),
        _f("median_pace_s_per_km", _F64, "s/km", "1000 / median_speed_mps"),
    ]


SESSIONS_SCHEMA = pa.schema(_sessions_fields())

NOTES_SCHEMA = pa.schema(
    [
        _f("note_id", _STR, "", "unique id of the note", False),
        *_ID_FIELDS,
        _f("written_at", TIME_TYPE, "UTC", "when the note was written", False),
        _f("pain_0_10", pa.int8(), "0..10", "pain during or after the run, 0 = none, 10 = worst imaginable"),
        _f("pain_where", _STR, "", "where the pain was, in the runner's words"),
        _f("rpe_1_10", pa.int8(), "1..10", "rating of perceived exertion of the run (CR-10), 1 = very easy"),
        _f("text", _STR, "", "free text"),
    ]
)
"""The pain and effort log: one row per note, never replaced (``imuback note``, the clinic page)."""

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "steps": STEPS_SCHEMA,
    "strides": STRIDES_SCHEMA,
    "sessions": SESSIONS_SCHEMA,
}

ERRORS_SCHEMA = pa.schema(
    [
        _f("source_path", pa.string(), "", "raw file that failed (absolute path)", False),
        _f("source_sha256", pa.string(), "", "SHA-256 of the file's bytes (null if unreadable)"),
        _f("session_id", pa.string(), "", "session identifier if it could be read, else null"),
        _f("runner_id", pa.string(), "", "runner identifier if it could be read, else null"),
        _f("error_type", pa.string(), "", "exception class, e.g. RawFormatError, UnitsError", False),
        _f("message", pa.string(), "", "what is wrong and what to do", False),
        _f("pipeline_version", pa.string(), "", "imuback.PIPELINE_VERSION of the failed run", False),
        _f("failed_at", TIME_TYPE, "UTC", "when the failure happened", False),
        _f("worker", pa.string(), "", "host:pid of the process that ran the session"),
    ],
    metadata={b"imuback.schema_version": SCHEMA_VERSION.encode(), b"imuback.table": b"errors"},
)
"""Schema of the ``errors`` table (documented in docs/batch.md)."""

WARNINGS_SCHEMA = pa.schema(
    [
        _f("source_path", pa.string(), "", "raw file whose reading said it (absolute path)", False),
        _f("source_sha256", pa.string(), "", "SHA-256 of the file's bytes (null if unreadable)"),
        _f("session_id", pa.string(), "", "session identifier(s) of the file, if known, else null"),
        _f("runner_id", pa.string(), "", "runner identifier if known, else null"),
        _f("message", pa.string(), "", "the warning, one line (names the file)", False),
        _f("pipeline_version", pa.string(), "", "imuback.PIPELINE_VERSION of the run that said it", False),
        _f("warned_at", TIME_TYPE, "UTC", "when the run that said it ended", False),
        _f("worker", pa.string(), "", "host:pid of the process that ran the session"),
    ],
    metadata={b"imuback.schema_version": SCHEMA_VERSION.encode(), b"imuback.table": b"warnings"},
)
"""Schema of the ``warnings`` table (documented in docs/batch.md): the ``errors`` table's columns for
what a batch's reading of a file said without failing (a zone given over the file's own), one row per
file and warning."""
