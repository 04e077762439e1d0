"""Synthetic runner session: a sacrum-worn 6-axis IMU along a physically consistent trajectory.

The simulator is the ground truth for every test and the embedded default of ``imuback demo``.
It is built from physics and published gait data, never from how a pipeline detects things:

1. Plan the session: standing, walking and running segments, pace changes, turns.
2. Draw every foot contact (step time, contact time, impact, asymmetry, fatigue, foot).
3. Vertical ground reaction force per contact, in body weights (BW): an active hump
   ``A [sin(pi u) + q sin(3 pi u) + r sin(2 pi u)]`` over the contact (Alexander & Jayes 1978; ``q`` is
   their shape factor: < 0 running, > 0 the walking double hump) plus a rearfoot impact transient
   (Hann bump, Cavanagh & Lafortune 1980; Clark et al. 2017). Vertical momentum balance: over
   each step the force impulse equals body weight x step time; a per-step controller adjusts the
   impulse slightly so the centre of mass (CoM) height stays periodic (no drift).
4. CoM acceleration ``a_z = g (F - 1)``; velocity and position are closed-form integrals.
   The sacrum is not the CoM: a damped soft-tissue oscillation (12-25 Hz, randomised per step,
   zero net velocity and displacement) is added at each impact.
5. Horizontal: braking then propulsion (zero net impulse), mediolateral push away from the
   stance foot (right contact pushes +y), centripetal acceleration in turns.
6. Pelvis orientation: yaw/roll at stride frequency, pitch at step frequency, heading turns and
   lean into turns; gyroscope = body angular velocity from the ZYX Euler-rate mapping.
   6b. Optionally a phone in a loose belt (:mod:`~imuback.simulate.belt`): a damped spring
   between pelvis and phone, tipping with the bounce, and occasional re-seatings.
7. Sensor: mounting (nominal + random misalignment, or any orientation), white noise, bias, range clipping,
   quantisation, timestamp jitter, gaps (missing rows).

Frames: world x forward (initial heading), y left, z up; body = pelvis frame with the same axes when
the pelvis is neutral; ``v_body = R @ v_sensor``. Units in every name. See docs/simulator.md.

This module is the public face; the model lives in sibling modules: :mod:`~imuback.simulate.params`
(knobs, mountings), :mod:`~imuback.simulate.plan` (steps 1-2), :mod:`~imuback.simulate.forces`
(closed-form force shapes), :mod:`~imuback.simulate.gait` (per-step parameters and impulse
balance, steps 3-6), :mod:`~imuback.simulate.kinematics` (trajectory and orientation at any time),
:mod:`~imuback.simulate.sensor` (step 7) and :mod:`~imuback.simulate.truth` (truth tables).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from imuback.core import G_MPS2, RawSession, check_id
from imuback.errors import SimulationError
from imuback.signal.frames import rotation_angle_deg
from imuback.simulate.belt import loose_belt
from imuback.simulate.gait import Gait, build_gait
from imuback.simulate.kinematics import body_vectors, evaluate
from imuback.simulate.params import (
    F64,
    FORCE_PLATE_THRESHOLD_N,
    NOMINAL_MOUNTINGS,
    RunnerParams,
)
from imuback.simulate.plan import Transitions, make_steps, pace_changes, plan_segments, speed_and_heading
from imuback.simulate.sensor import iso_utc, read_sensor, sample_grid
from imuback.simulate.truth import mark_gaps, truth_tables
from imuback.store.raw import write_raw


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthSignals:
    """Noise-free per-sample signals at the rows of ``raw`` (for tests and plots).

    Attributes
    ----------
    t_s : (N,) float64 true sample time, s since session start (without timestamp jitter).
    acc_sensor_mps2 : (N, 3) noise-free specific force in the sensor frame, m/s².
    gyr_sensor_dps : (N, 3) noise-free angular velocity in the sensor frame, deg/s.
    euler_zyx_rad : (N, 3) pelvis yaw (incl. heading), pitch, roll in rad: ``R_world_from_body =
        rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)``.
    vgrf_bw : (N,) total vertical GRF, body weights.
    z_m, y_m : (N,) sacral vertical / mediolateral (path frame) position, m.
    """

    t_s: F64
    acc_sensor_mps2: F64
    gyr_sensor_dps: F64
    euler_zyx_rad: F64
    vgrf_bw: F64
    z_m: F64
    y_m: F64


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedSession:
    """One simulated session: the raw recording and its ground truth.

    Attributes
    ----------
    raw : the recording in the sensor frame, as a collector would have written it.
    truth_steps : one row per foot contact (see docs/simulator.md for columns).
    truth_strides : one row per stride (every step that has two following steps in its bout).
    truth : JSON-serialisable dict: true mounting, misalignment, biases, gaps, segments, params.
    signals : optional noise-free per-sample signals (``simulate_session(keep_signals=True)``).
    speed, heading : the runner's forward speed (m/s) and heading (rad, world frame: 0 along x,
        counter-clockwise = a left turn) as functions of the session time; read them with
        :meth:`true_speed_mps` and :meth:`true_heading_rad`.
    """

    raw: RawSession
    truth_steps: pa.Table
    truth_strides: pa.Table
    truth: dict[str, Any]
    speed: Transitions
    heading: Transitions
    signals: TruthSignals | None = None

    def true_speed_mps(self, t_s: F64) -> F64:
        """The runner's true forward speed (m/s) at ``t_s`` (sorted, s since the session start).

        It is the speed the simulated body moves at (step 5): a step covers the integral of it
        over the step time, so step length = speed x step time where the speed is steady.
        """
        return self.speed.eval(np.asarray(t_s, dtype=np.float64))[0]

    def true_heading_rad(self, t_s: F64) -> F64:
        """The runner's true heading (rad, world frame: 0 along x, left turns positive) at sorted ``t_s``."""
        return self.heading.eval(np.asarray(t_s, dtype=np.float64))[0]


def _start_ns(start_time: datetime | int) -> int:
    if isinstance(start_time, datetime):
        if start_time.tzinfo is None:
            raise SimulationError("simulate_session: start_time must be timezone-aware (UTC)")
        return round(start_time.timestamp() * 1e6) * 1000
    return int(start_time)


def session_gait(p: RunnerParams, rng: np.random.Generator
                 ) -> tuple[Gait, list[dict[str, Any]], Transitions, Transitions]:
    """Stages 1-6 of :func:`simulate_session`, drawing from ``rng`` in its order: the plan, the steps,
    the smoothed speed and heading (1), then every contact's forces, control, tissue and pelvis
    (2-6). Returns the gait, the segment log (one dict per stand / walk / run segment), and the
    forward speed (m/s) and heading (rad).
    """
    segs = plan_segments(p, rng)
    pace_fn = pace_changes(p, segs, rng)
    st, seg_log = make_steps(p, segs, rng, pace_fn)
    speed, heading = speed_and_heading(p, seg_log, rng, pace_fn)
    return build_gait(p, st, rng, speed, heading), seg_log, speed, heading


def simulate_session(params: RunnerParams = RunnerParams(),
                     *, seed: int, session_id: str, runner_id: str, start_time: datetime | int,
                     keep_signals: bool = False) -> SimulatedSession:
    """Simulate one session of a sacrum-worn IMU with its ground truth.

    Parameters
    ----------
    params : every knob (see :class:`RunnerParams`).
    seed : random seed; the same seed and params give the same session, bit for bit.
    session_id, runner_id : identifiers (letters, digits, ``._-``).
    start_time : UTC datetime (timezone-aware) or int ns since epoch of the first sample.
    keep_signals : also return noise-free per-sample signals (:class:`TruthSignals`).

    Returns
    -------
    SimulatedSession with ``raw`` in the sensor frame (m/s², deg/s, float32, gaps as missing rows)
    and truth tables per step and per stride.
    """
    p = params
    check_id(session_id, what="session_id", source="simulate_session")
    check_id(runner_id, what="runner_id", source="simulate_session")
    t0_ns = _start_ns(start_time)
    rng = np.random.default_rng(seed)
    gait, seg_log, speed, heading = session_gait(p, rng)
    duration_s = seg_log[-1]["end_s"]
    # truth on a fine grid
    thr_bw = FORCE_PLATE_THRESHOLD_N / (p.body_mass_kg * G_MPS2)
    steps_tbl, strides_tbl, ic_s, to_s = truth_tables(p, gait, thr_bw, session_id, runner_id, t0_ns)
    # 7. sensor: gaps, then the trajectory at the kept samples, then the chip
    fs = p.sample_rate_hz
    grid = sample_grid(p, duration_s=duration_s, t0_ns=t0_ns, rng=rng)
    t = grid.t_s
    belt_truth: dict[str, Any] = {}
    if p.belt_bounce_hz > 0 or p.belt_shifts_per_10min > 0:
        # 6b. a phone in a loose belt: its spring needs the uniform grid, gaps are cut after
        full = np.arange(int(np.floor(duration_s * fs))) / fs
        kept = np.round(t * fs).astype(np.int64)
        ev = evaluate(gait, full, positions=keep_signals)
        belt = loose_belt(p, *body_vectors(ev), fs_hz=fs, rng=rng)
        ev = {k: v[kept] for k, v in ev.items()}
        f_body, w_body = belt.f_mps2[kept], belt.w_rps[kept]
        belt_truth = {"bounce_tilt_deg_max": belt.bounce_tilt_deg_max, "shifts": list(belt.shifts)}
    else:
        ev = evaluate(gait, t, positions=keep_signals)
        f_body, w_body = body_vectors(ev)
    sen = read_sensor(p, f_body, w_body, t_s=t, t0_ns=t0_ns, rng=rng)
    raw = RawSession(session_id=session_id, runner_id=runner_id, sensor=p.sensor,
                     sample_rate_hz=float(fs), time_ns=sen.time_ns,
                     acc_mps2=sen.acc_mps2.astype(np.float32), gyr_dps=sen.gyr_dps.astype(np.float32),
                     mounting=sen.mounting_nominal, gaps=grid.gap_log, acc_range_g=float(p.acc_range_g),
                     gyr_range_dps=float(p.gyr_range_dps), source=f"<simulated {session_id}>")
    # which contacts / strides fall in a gap
    steps_tbl, strides_tbl = mark_gaps(steps_tbl, strides_tbl, ic_s, to_s, grid.gaps_s)
    truth: dict[str, Any] = {
        "session_id": session_id,
        "runner_id": runner_id,
        "seed": int(seed),
        "start_time_ns": int(t0_ns),
        "start_time": iso_utc(t0_ns),
        "duration_s": float(duration_s),
        "sample_rate_hz": float(fs),
        "mounting_name": p.mounting,
        "mounting_nominal": sen.mounting_nominal.tolist(),
        "mounting_true": sen.mounting_true.tolist(),
        "misalignment_deg": rotation_angle_deg(sen.misalignment),
        "acc_bias_mps2": sen.acc_bias_mps2.tolist(),
        "gyr_bias_dps": sen.gyr_bias_dps.tolist(),
        "saturated_values": {"acc": sen.saturated_acc, "gyr": sen.saturated_gyr},
        "gaps": [{"start_s": float(a), "end_s": float(b)} for a, b in grid.gaps_s],
        "segments": seg_log,
        "n_steps": int(steps_tbl.num_rows),
        "n_strides": int(strides_tbl.num_rows),
        "force_threshold_bw": float(thr_bw),
        "params": p.to_json_dict(),
        "belt": belt_truth,
    }
    signals = None
    if keep_signals:
        signals = TruthSignals(t_s=t, acc_sensor_mps2=sen.acc_true_mps2,
                               gyr_sensor_dps=sen.gyr_true_dps,
                               euler_zyx_rad=np.stack([ev["yaw"], ev["pitch"], ev["roll"]], -1),
                               vgrf_bw=ev["F"], z_m=ev["z"], y_m=ev["y"])
    return SimulatedSession(raw=raw, truth_steps=steps_tbl, truth_strides=strides_tbl,
                            truth=truth, speed=speed, heading=heading, signals=signals)


def write_simulated(sim: SimulatedSession, out_dir: str | Path) -> Path:
    """Write the raw file ``out_dir/<session_id>.parquet`` and the truth under ``out_dir/truth/``.

    Truth files: ``<session_id>.steps.parquet``, ``.strides.parquet`` and ``.json``. Raw files are
    the only ``*.parquet`` directly in ``out_dir``. Returns the raw file's path.
    """
    out = Path(out_dir)
    sid = sim.raw.session_id
    raw_path = write_raw(out / f"{sid}.parquet", sim.raw)
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    pq.write_table(sim.truth_steps, tdir / f"{sid}.steps.parquet", compression="zstd")
    pq.write_table(sim.truth_strides, tdir / f"{sid}.strides.parquet", compression="zstd")
    (tdir / f"{sid}.json").write_text(json.dumps(sim.truth, indent=1, sort_keys=True) + "\n")
    return raw_path


__all__ = [
    "FORCE_PLATE_THRESHOLD_N",
    "NOMINAL_MOUNTINGS",
    "RunnerParams",
    "SimulatedSession",
    "SimulationError",
    "TruthSignals",
    "simulate_session",
    "write_simulated",
]
