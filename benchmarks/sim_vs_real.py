"""Signal statistics of real and simulated walking side by side (walk–U-turn–walk).

    python benchmarks/sim_vs_real.py [--data ../shared/data] [--sessions 8] [--locked-only] [--waveforms]
    python benchmarks/sim_vs_real.py --choose   # how the walking-contact knobs were chosen on voisard
    python benchmarks/sim_vs_real.py --choose-pelvis   # how the walking pelvis harmonics were chosen
    python benchmarks/sim_vs_real.py --choose-lever    # the sensor's lever arm and the heel-strike torsion
    python benchmarks/sim_vs_real.py --ablate          # also the scenarios without the torsion / lever arm
    python benchmarks/sim_vs_real.py --sway            # the simulated CoM's sideways sway vs the sensor's ML
    python benchmarks/sim_vs_real.py --choose-ml-tissue  # the sideways strap ring's size (off by default; sets it)

Real: voisard_l5_walk (52 trials, Xsens at L5, foot-sensor ICs) and, held out, mobgap_lab (McRoberts
at the lower back, one row per reference walking bout of 6+ stereophotogrammetry ICs, INDIP where
stereo is absent, speed from its reference; the only real walking below 0.6 m/s). Simulated: the
realistic walking scenarios of benchmarks/sim_accuracy.py (truth ICs). The same rules for both: the walk spans the
first to the last reference IC; "straight" is where the 1 Hz low-passed yaw rate stays below
30 deg/s; ``step_rcv_pct`` is the robust
step-time CV (1.4826 MAD / median: steady walking without its starts, stops and turn approaches);
amplitudes are RMS of the 0.5-8 Hz band of the body-frame acceleration (frame found by
the pipeline), in g. The simulator is never tuned to these numbers: they show where it differs.

Contact-locked averages (:func:`contact_locked`): the body-frame forward (AP) and vertical
acceleration and the yaw and roll rates averaged over +-300 ms around each reference IC of steady
straight walking (real: voisard's foot-sensor ICs, mobgap_lab's stereophotogrammetry ICs as a
second opinion and its INDIP ICs; simulated: the truth ICs), yaw and roll sign-flipped on left
steps (voisard/4-1 and 4-2, whose reference feet are swapped, by their true feet). From the mean
waveforms: the lag after IC of the AP peak, of the steepest AP fall (braking
onset), of the AP trough (braking peak) and of the vertical peak, and each channel's correlation
with voisard's mean (yaw and roll also with stereo's, the held-out set) and the RMS difference of
the mean yaw and roll rates; the mediolateral (ML) RMS over all windows and of their mean (the
part locked to the contacts). The pipeline's step events are not used, only its body frame.

Lever arm and heel-strike torsion (:func:`choose_lever`): the 1.5-8 Hz mediolateral acceleration
of straight walking regressed on the measured yaw and roll angular accelerations (the roll angle's
gravity ``g sin(roll)`` taken as known): a sensor at ``r`` from the point the pelvis turns about
feels ``(alpha x r)_y = alpha_z r_x - alpha_x r_z``. The torsion: the contact-locked mean yaw rate
fitted by its first and third stride harmonics plus the rate of the ring
``exp(-b s)(1 - cos s)^2 / 4`` (``simulate.forces.torsion_kernel``), ``s = 2 pi f (lag - delay)``,
over a grid of ``f``, ``delay`` and ``b``.

Pelvis harmonics (:func:`choose_pelvis`): the mean yaw and roll rates projected on the first and
third stride harmonics (stride phase ``pi * lag / T``, ``T`` the median step time), written as the
angle parameters ``(q1_deg, h3, q3_deg)`` of ``RunnerParams.walk_pelvis_*_harmonics``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.signal.dsp import bandpass, lowpass
from imuback.signal.frames import G_MPS2
from imuback.signal.session import analyse_session
from imuback.simulate.forces import torsion_kernel
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_any import DEFAULT_DATA, voisard_raws
from real_walking import REFERENCE_FEET_SWAPPED, Trial
from real_walking import load as load_real_walking
from sim_accuracy import WALK_SPEEDS_MPS, walking_scenario

F64 = npt.NDArray[np.float64]
T0_NS = 1_600_000_000 * 10**9
BANDS_HZ = ((0.5, 1.5), (1.5, 3.0), (3.0, 5.0), (5.0, 8.0))
"""Frequency bands of the second table: the stride's fundamental sway, then step-rate and faster."""
BAND_COLUMNS = (tuple(f"ml_{lo:g}-{hi:g}_g" for lo, hi in BANDS_HZ)
                + tuple(f"yaw_{lo:g}-{hi:g}_dps" for lo, hi in BANDS_HZ))
"""RMS of the mediolateral acceleration (g) and of the yaw rate (deg/s) in :data:`BANDS_HZ`."""
COLUMNS = ("speed_mps", "cadence_spm", "step_cv_pct", "step_rcv_pct", "vert_rms_g", "ap_rms_g", "ml_rms_g",
           "turn_peak_dps", "turn_s", "turn_vert_ratio")
"""``turn_s``: time with the yaw rate above 30 deg/s per turn (a turn: the rate rising past 60 deg/s);
``turn_vert_ratio``: vertical RMS while turning over vertical RMS while straight."""


def walk_stats(raw: RawSession, ic_s: F64, speed_mps: float) -> dict[str, float]:
    """Statistics of one walk with reference ICs ``ic_s`` (s from the first sample, sorted)."""
    a = analyse_session(raw)
    b = a.body
    fs = b.fs_hz
    bounds = np.array([0, b.n])
    t = np.arange(b.n) / fs
    assert b.gyr_dps is not None
    yaw = np.abs(lowpass(b.gyr_dps[:, 2], 1.0, fs, bounds))
    walk = (t >= ic_s[0]) & (t <= ic_s[-1])
    straight = walk & (yaw < 30.0)
    turning = walk & (yaw >= 30.0)
    fast = walk & (yaw >= 60.0)
    n_turns = int(np.count_nonzero(fast[1:] & ~fast[:-1]))
    acc = bandpass(b.acc_mps2, 0.5, 8.0, fs, bounds) / G_MPS2
    d = np.diff(ic_s)
    mid = ic_s[:-1] + d / 2
    ok = (d < 1.5) & np.isin(np.round(mid * fs).astype(np.int64), np.flatnonzero(straight))
    steady = d[ok]
    bands = {}
    for lo, hi in BANDS_HZ:
        ml = bandpass(b.acc_mps2[:, 1], lo, hi, fs, bounds)[straight] / G_MPS2
        yr = bandpass(b.gyr_dps[:, 2], lo, hi, fs, bounds)[straight]
        bands[f"ml_{lo:g}-{hi:g}_g"] = float(np.sqrt(np.mean(ml**2)))
        bands[f"yaw_{lo:g}-{hi:g}_dps"] = float(np.sqrt(np.mean(yr**2)))
    return bands | {
        "speed_mps": speed_mps,
        "cadence_spm": 60.0 / float(np.median(steady)),
        "step_cv_pct": 100.0 * float(np.std(steady) / np.mean(steady)),
        "step_rcv_pct": 100.0 * 1.4826 * float(np.median(np.abs(steady - np.median(steady))) / np.median(steady)),
        "vert_rms_g": float(np.sqrt(np.mean(acc[straight, 2] ** 2))),
        "ap_rms_g": float(np.sqrt(np.mean(acc[straight, 0] ** 2))),
        "ml_rms_g": float(np.sqrt(np.mean(acc[straight, 1] ** 2))),
        "turn_peak_dps": float(yaw[walk].max()),
        "turn_s": float(np.count_nonzero(turning)) / fs / max(n_turns, 1),
        "turn_vert_ratio": (float(np.sqrt(np.mean(acc[turning, 2] ** 2) / np.mean(acc[straight, 2] ** 2)))
                            if np.count_nonzero(turning) >= fs else float("nan")),
    }


def real_stats(root: Path) -> list[dict[str, float]]:
    out = []
    for raw in voisard_raws(root):  # one pipeline run per trial
        stem = raw.session_id.removeprefix("voisard_").removesuffix("_lb").replace("_", "-")
        meta = json.loads((root / "GaitData" / f"{stem}.json").read_text())
        n = raw.n_samples
        ic = np.sort(np.array([e[1] for e in meta["LeftFootEvents"] + meta["RightFootEvents"] if e[1] < n],
                              dtype=np.float64)) / 100.0
        a, b = meta["TrialBoundaries"]
        ua, ub = meta["UTurnBoundaries"]
        speed = 20.0 / ((b - a - (ub - ua)) / 100.0)  # 10 m out and 10 m back, the turn aside
        out.append(walk_stats(raw, ic, speed))
    return out


def mobgap_stats(data: Path) -> list[dict[str, float]]:
    """Statistics of every mobgap_lab reference walking bout with 6+ ICs and a known speed (held out)."""
    out = []
    for tr in load_real_walking(data):
        if tr.dataset != "mobgap_lab":
            continue
        ref = tr.refs.get("stereo", tr.refs["INDIP"])
        for b, speed in enumerate(ref.speed_mps):
            ic = np.sort(ref.ic_s[ref.bout_id == b])
            if ic.size >= 6 and np.isfinite(speed):
                out.append(walk_stats(tr.raw, ic, float(speed)))
    return out


WITHOUT = {
    "without the heel-strike torsion": {"walk_heel_strike_torsion": (0.0, 5.0, 0.02, 0.15)},
    "without the torsion and the lever arm": {"walk_heel_strike_torsion": (0.0, 5.0, 0.02, 0.15),
                                              "walk_sensor_lever_m": (0.0, 0.0, 0.0)},
}
"""Ablations of the walking model (``--ablate``): the realistic scenarios with parts switched off."""


def sim_stats(sessions: int, **overrides: object) -> list[dict[str, float]]:
    out = []
    for i in range(sessions):
        p = replace(walking_scenario(i), **overrides)  # type: ignore[arg-type]
        sim = simulate_session(p, seed=500 + i, session_id=f"svr{i}", runner_id="sim", start_time=T0_NS)
        ic = (sim.truth_steps.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
        out.append(walk_stats(sim.raw, np.sort(ic.astype(np.float64)), p.walk_speed_mps))
    return out


LOCK_HALF_S = 0.3
LOCK_STEP_S = 0.005
LOCK_CHANNELS = ("ap_g", "vert_g", "yaw_dps", "roll_dps", "ml_g")
LOCK_SIGNS = np.array([1.0 / G_MPS2, 1.0 / G_MPS2, 1.0, 1.0, 1.0 / G_MPS2])
"""Per channel: scale to g (accelerations) or deg/s (rates)."""
LOCK_LAGS_S = np.round(np.arange(-LOCK_HALF_S, LOCK_HALF_S + LOCK_STEP_S / 2, LOCK_STEP_S), 6)


def _steady_steps(b, ic_s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The ICs a contact-locked average takes: not the first or last two, both neighbouring steps
    under 1.5 s, the whole window inside the recording, and the trunk turning under 30 deg/s."""
    yaw = np.abs(lowpass(b.gyr_dps[:, 2], 1.0, b.fs_hz, np.array([0, b.n])))
    d = np.diff(ic_s)
    ok = np.zeros(ic_s.size, dtype=bool)
    ok[2:-2] = True
    ok[1:] &= d < 1.5
    ok[:-1] &= d < 1.5
    ok &= (ic_s - LOCK_HALF_S >= t[0]) & (ic_s + LOCK_HALF_S <= t[-1])
    ok[ok] &= np.interp(ic_s[ok], t, yaw) < 30.0
    return ok


def contact_locked(raw: RawSession, ic_s: F64, foot: npt.NDArray[np.str_]) -> F64:
    """Body-frame windows around the ICs of steady straight walking, (5, n_steps, n_lags).

    Channels :data:`LOCK_CHANNELS`: forward and vertical specific force minus their session mean
    (g), yaw and roll rate (deg/s) and the mediolateral specific force minus its mean (g) times +1
    on right and -1 on left steps; sampled at
    ``ic + LOCK_LAGS_S`` by linear interpolation (any sample rate). Steps kept: both neighbouring
    step times below 1.5 s, not the first or last two ICs, 1 Hz low-passed |yaw rate| below
    30 deg/s at the IC, window inside the recording.
    """
    a = analyse_session(raw)
    b = a.body
    assert b.gyr_dps is not None
    fs = b.fs_hz
    t = np.arange(b.n) / fs
    ok = _steady_steps(b, ic_s, t)
    at = ic_s[ok, None] + LOCK_LAGS_S[None, :]
    side = np.where(foot[ok] == "R", 1.0, -1.0)[:, None]
    acc = b.acc_mps2 - np.mean(b.acc_mps2, axis=0)
    chans = (acc[:, 0], acc[:, 2], b.gyr_dps[:, 2], b.gyr_dps[:, 0], acc[:, 1])
    out = np.stack([np.interp(at, t, c) for c in chans]) * LOCK_SIGNS[:, None, None]
    out[2:] *= side[None]
    return out


def _vertex(y: F64, k: int) -> float:
    """Sub-grid lag (s) of an extremum at grid index ``k`` (parabola through 3 points)."""
    if 0 < k < y.size - 1:
        den = y[k - 1] - 2.0 * y[k] + y[k + 1]
        off = 0.5 * (y[k - 1] - y[k + 1]) / den if den != 0 else 0.0
        return float(LOCK_LAGS_S[k] + np.clip(off, -1.0, 1.0) * LOCK_STEP_S)
    return float(LOCK_LAGS_S[k])


def lock_figures(mean: F64) -> dict[str, float]:
    """Lags (ms after IC) of the mean AP peak (-150..150 ms), steepest AP fall (-100..200 ms), AP
    trough (0..250 ms) and vertical peak (-50..250 ms), and their sizes (g, g/s)."""
    ap, vert = mean[0], mean[1]
    dap = np.gradient(ap, LOCK_STEP_S)
    out: dict[str, float] = {}
    for name, y, lo, hi, sign in (("ap_peak", ap, -0.15, 0.15, 1.0), ("ap_fall", dap, -0.1, 0.2, -1.0),
                                  ("ap_trough", ap, 0.0, 0.25, -1.0), ("vert_peak", vert, -0.05, 0.25, 1.0)):
        idx = np.flatnonzero((LOCK_LAGS_S >= lo - 1e-9) & (LOCK_LAGS_S <= hi + 1e-9))
        k = int(idx[np.argmax(sign * y[idx])])
        out[f"{name}_ms"] = 1e3 * _vertex(sign * y, k)
        out[name] = float(y[k])
    return out


def real_locked(data: Path) -> dict[str, F64]:
    """Contact-locked windows of every real walking reference: name -> (4, n_steps, n_lags).

    The trials of :data:`real_walking.REFERENCE_FEET_SWAPPED` are averaged with their feet swapped
    back (only the yaw and roll signs depend on the foot).
    """
    wins: dict[str, list[F64]] = {}
    for tr in load_real_walking(data):
        for ref_name, ref in tr.refs.items():
            foot = ref.foot
            if tr.name in REFERENCE_FEET_SWAPPED:  # the yaw and roll signs follow the true feet
                foot = np.where(foot == "R", "L", np.where(foot == "L", "R", foot))
            wins.setdefault(f"{tr.dataset} ({ref_name})", []).append(contact_locked(tr.raw, ref.ic_s, foot))
    return {k: np.concatenate(v, axis=1) for k, v in wins.items()}


def sim_locked(params: list[RunnerParams], seed0: int) -> F64:
    """Contact-locked windows of simulated sessions around their truth ICs, (4, n_steps, n_lags)."""
    wins = []
    for i, p in enumerate(params):
        sim = simulate_session(p, seed=seed0 + i, session_id=f"lock{i}", runner_id="sim", start_time=T0_NS)
        ts = sim.truth_steps
        ic = (ts.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
        o = np.argsort(ic, kind="stable")
        foot = np.asarray(ts.column("foot").to_pylist(), dtype=str)[o]
        wins.append(contact_locked(sim.raw, ic[o].astype(np.float64), foot))
    return np.concatenate(wins, axis=1)


DEFAULT_WALK = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=120.0, walk_end_s=0.0,
                            sample_rate_hz=100.0, gaps_per_hour=0.0)
"""The simulator's default walk (straight, 1.35 m/s, 112 spm), nominal mounting, 100 Hz."""


SINUSOID_PELVIS = {"walk_pelvis_rotation_harmonics": (-18.0, 0.0, 0.0),
                   "walk_pelvis_obliquity_harmonics": (-153.0, 0.0, 0.0)}
"""The walking pelvis before pipeline 0.6.x's simulator compared it with real walking: yaw
``sin(phi - 0.1 pi)``, roll ``-sin(phi + 0.15 pi)`` (the running shapes)."""


def _rms(x: F64) -> float:
    return float(np.sqrt(np.mean(x * x)))


def locked_table(data: Path, sessions: int, *, waveforms: bool = False) -> dict[str, F64]:
    """Print the contact-locked figures of every real reference and of the simulated walks.

    ``waveforms``: also the mean waveforms every 20 ms.
    """
    sets = real_locked(data) if (data / "real").is_dir() else {}
    sets["simulated default walk"] = sim_locked([DEFAULT_WALK] * 2, 700)
    sets["simulated realistic walking"] = sim_locked([walking_scenario(i) for i in range(sessions)], 500)
    # the walking contact before it was compared with real walking: a plain-sine AP force
    plain = {"walk_braking_peak_frac": 0.25, "walk_heel_strike_ap_bw": 0.0}
    sets["default walk, plain-sine AP"] = sim_locked([replace(DEFAULT_WALK, **plain)] * 2, 700)
    sets["realistic, plain-sine AP"] = sim_locked(
        [replace(walking_scenario(i), **plain) for i in range(sessions)], 500)
    # the walking pelvis before it was compared with real walking: one sinusoid per stride
    sets["default walk, sinusoid pelvis"] = sim_locked([replace(DEFAULT_WALK, **SINUSOID_PELVIS)] * 2, 700)
    sets["realistic, sinusoid pelvis"] = sim_locked(
        [replace(walking_scenario(i), **SINUSOID_PELVIS) for i in range(sessions)], 500)
    ref = sets.get("voisard_l5_walk (foot IMU)")
    held = sets.get("mobgap_lab (stereo)")
    print("\n## contact-locked averages, steady straight walking (lags in ms after the reference IC)")
    print(f"{'':30s} {'steps':>5s} {'AP peak':>14s} {'AP fall':>17s} {'AP trough':>15s} {'vert peak':>14s}"
          "  r with voisard (AP/vert/yaw/roll)  AP, vert RMS diff (g) from voisard | stereo"
          "  yaw/roll: r with stereo, RMS diff (deg/s) from voisard | stereo"
          "  ML rms g: all steps / their mean, r of the mean with voisard / stereo")
    means = {}
    for name, w in sets.items():
        m = w.mean(axis=1)
        means[name] = m
        f = lock_figures(m)
        r = (" / ".join(f"{np.corrcoef(m[c], ref.mean(axis=1)[c])[0, 1]:+.2f}" for c in range(4))
             if ref is not None else "-")
        d = " | ".join(f"{_rms(m[0] - x.mean(axis=1)[0]):.3f}, {_rms(m[1] - x.mean(axis=1)[1]):.3f}"
                       for x in (ref, held) if x is not None)
        rot = "-"
        if held is not None:
            hm = held.mean(axis=1)
            rot = (f"{np.corrcoef(m[2], hm[2])[0, 1]:+.2f} / {np.corrcoef(m[3], hm[3])[0, 1]:+.2f}, "
                   + " | ".join(f"{_rms(m[2] - x.mean(axis=1)[2]):4.1f}, {_rms(m[3] - x.mean(axis=1)[3]):4.1f}"
                                for x in (ref, held) if x is not None))
        ml_r = " / ".join(f"{np.corrcoef(m[4], x.mean(axis=1)[4])[0, 1]:+.2f}" for x in (ref, held) if x is not None)
        print(f"{name:30s} {w.shape[1]:5d} {f['ap_peak_ms']:+6.1f} ({f['ap_peak']:.2f} g) "
              f"{f['ap_fall_ms']:+6.1f} ({f['ap_fall']:+.1f} g/s) {f['ap_trough_ms']:+6.1f} ({f['ap_trough']:+.2f} g) "
              f"{f['vert_peak_ms']:+6.1f} ({f['vert_peak']:.2f} g)  {r}  {d}  {rot}  "
              f"{_rms(w[4]):.3f} / {_rms(m[4]):.3f}, {ml_r}")
    if waveforms:
        sel = slice(0, LOCK_LAGS_S.size, 4)
        for c, cname in enumerate(LOCK_CHANNELS):
            print(f"\n{cname + ' at ms':30s} " + " ".join(f"{1e3 * x:5.0f}" for x in LOCK_LAGS_S[sel]))
            for name, m in means.items():
                print(f"{name:30s} " + " ".join(f"{x:5.2f}" for x in m[c][sel]))
    return means


CHOICE_GRID = {
    "walk_braking_peak_frac": (0.15, 0.2),
    "walk_heel_strike_ap_bw": (0.1, 0.15, 0.2, 0.3),
    "walk_collision_s": (0.1, 0.15),
    "walk_collision_delay_s": (0.0, 0.0175, 0.035),
}
"""The grid over which the simulator's walking-contact knobs were chosen (default walk)."""


def choose(data: Path) -> None:
    """Print how the walking-contact knobs were chosen: on voisard only, mobgap_lab held out.

    Rule: the turnover delay whose steepest AP fall lands nearest voisard's; among those, the
    smallest RMS difference of the mean AP waveform from voisard's. Then the AP peak raised.
    """
    real = real_locked(data)
    v = real["voisard_l5_walk (foot IMU)"].mean(axis=1)
    held = real.get("mobgap_lab (stereo)")
    h = held.mean(axis=1) if held is not None else None
    v_fall = lock_figures(v)["ap_fall_ms"]
    print(f"\n## choice of the walking contact on voisard (steepest AP fall {v_fall:+.1f} ms); stereo held out")
    print("braking_frac pull_bw collision_s delay_s ap_peak_bw | AP fall ms  AP peak ms | RMS diff g voisard  stereo")
    rows = []
    keys = list(CHOICE_GRID)
    combos = [dict(zip(keys, c, strict=True)) for c in itertools.product(*CHOICE_GRID.values())]
    for kw in combos:
        m = sim_locked([replace(DEFAULT_WALK, **kw)] * 2, 700).mean(axis=1)
        f = lock_figures(m)
        rms_v = _rms(m[0] - v[0])
        rms_h = _rms(m[0] - h[0]) if h is not None else float("nan")
        rows.append((kw, f, rms_v))
        print(f"{kw['walk_braking_peak_frac']:12.2f} {kw['walk_heel_strike_ap_bw']:7.2f} "
              f"{kw['walk_collision_s']:11.2f} {kw['walk_collision_delay_s']:7.4f} "
              f"{DEFAULT_WALK.walk_ap_peak_bw:10.2f} | {f['ap_fall_ms']:+10.1f} "
              f"{f['ap_peak_ms']:+10.1f} | {rms_v:18.3f} {rms_h:7.3f}")
    gap = {d: float(np.median([abs(f["ap_fall_ms"] - v_fall) for kw, f, _ in rows
                               if kw["walk_collision_delay_s"] == d])) for d in CHOICE_GRID["walk_collision_delay_s"]}
    best_d = min(gap, key=lambda d: gap[d])
    best = min((r for r in rows if r[0]["walk_collision_delay_s"] == best_d), key=lambda r: r[2])
    print(f"chosen: {best[0]} (RMS diff {best[2]:.3f} g)")
    for peak in (0.25, 0.3):
        m = sim_locked([replace(DEFAULT_WALK, **best[0], walk_ap_peak_bw=peak)] * 2, 700).mean(axis=1)
        rms_h = _rms(m[0] - h[0]) if h is not None else float("nan")
        print(f"  with walk_ap_peak_bw {peak}: RMS diff {_rms(m[0] - v[0]):.3f} g voisard, {rms_h:.3f} stereo")


def stride_harmonics(rate_dps: F64, step_s: float) -> tuple[float, float, float]:
    """``(q1_deg, h3, q3_deg)`` of the angle whose rate is the contact-locked mean ``rate_dps``.

    Least squares of the rate on the first and third stride harmonics, ``phi = pi * lag / step_s``;
    a rate ``A_n sin(n phi + p_n)`` is the rate of the angle ``A_n / (n pi / step_s) sin(n phi + p_n
    - 90 deg)``; ``h3`` is the third angle amplitude over the first.
    """
    phi = np.pi * LOCK_LAGS_S / step_s
    x = np.stack([np.sin(phi), np.cos(phi), np.sin(3 * phi), np.cos(3 * phi)], axis=1)
    c = np.linalg.lstsq(x, rate_dps, rcond=None)[0]
    a1, a3 = np.hypot(c[0], c[1]), np.hypot(c[2], c[3])
    q1 = np.degrees(np.arctan2(c[1], c[0])) - 90.0
    q3 = np.degrees(np.arctan2(c[3], c[2])) - 90.0
    return float((q1 + 180.0) % 360.0 - 180.0), float(a3 / 3.0 / a1), float((q3 + 180.0) % 360.0 - 180.0)


def _median_step_s(wins_ic: list[F64]) -> float:
    return float(np.median(np.concatenate([d[d < 1.5] for d in (np.diff(ic) for ic in wins_ic)])))


def choose_pelvis(data: Path) -> None:
    """Print the stride harmonics of every reference's contact-locked yaw and roll rates and the choice.

    Rule: voisard's ``(q1, h3, q3)`` rounded (phases to 5 deg, ``h3`` to 0.05); mobgap_lab held out.
    """
    real = real_locked(data)
    steps: dict[str, list[F64]] = {}
    for tr in load_real_walking(data):
        for ref_name, ref in tr.refs.items():
            steps.setdefault(f"{tr.dataset} ({ref_name})", []).append(ref.ic_s)
    sims = {"simulated default walk": DEFAULT_WALK,
            "default walk, sinusoid pelvis": replace(DEFAULT_WALK, **SINUSOID_PELVIS)}
    step_sim = 60.0 / DEFAULT_WALK.walk_cadence_spm
    print("\n## stride harmonics of the contact-locked yaw and roll rates: (q1_deg, h3, q3_deg) of the angle")
    print(f"{'':30s} {'step s':>6s}  {'yaw q1    h3    q3':>20s}  {'roll q1    h3    q3':>20s}")
    rows = {k: (v.mean(axis=1), _median_step_s(steps[k])) for k, v in real.items()}
    rows.update({k: (sim_locked([p] * 2, 700).mean(axis=1), step_sim) for k, p in sims.items()})
    for name, (m, ts) in rows.items():
        hy, hr = stride_harmonics(m[2], ts), stride_harmonics(m[3], ts)
        print(f"{name:30s} {ts:6.3f}  " + "  ".join(f"{h[0]:+7.1f} {h[1]:5.2f} {h[2]:+7.1f}" for h in (hy, hr)))
    v, ts = rows["voisard_l5_walk (foot IMU)"]
    for label, h in (("rotation", stride_harmonics(v[2], ts)), ("obliquity", stride_harmonics(v[3], ts))):
        print(f"chosen walk_pelvis_{label}_harmonics = ({5 * round(h[0] / 5):.1f}, {0.05 * round(h[1] / 0.05):.2f}, "
              f"{5 * round(h[2] / 5):.1f})")


def lever_rows(raw: RawSession, ic_s: F64) -> tuple[F64, F64]:
    """Straight walking (1 s inside the first and last IC, 1 Hz low-passed |yaw rate| < 30 deg/s), 1.5-8 Hz
    band: the mediolateral specific force minus ``g sin(roll)`` (m/s²) and the design columns
    ``(alpha_z, -alpha_x)`` (rad/s²) whose coefficients are the lever ``(r_x, r_z)`` (m)."""
    b = analyse_session(raw).body
    assert b.gyr_dps is not None
    fs = b.fs_hz
    bd = np.array([0, b.n])
    t = np.arange(b.n) / fs
    yaw = np.abs(lowpass(b.gyr_dps[:, 2], 1.0, fs, bd))
    keep = (t >= ic_s[0] + 1.0) & (t <= ic_s[-1] - 1.0) & (yaw < 30.0)
    w = np.radians(bandpass(b.gyr_dps.astype(np.float64), 0.3, 12.0, fs, bd))
    alpha = np.gradient(w, 1.0 / fs, axis=0)
    roll = np.cumsum(w[:, 0]) / fs
    y = bandpass(b.acc_mps2[:, 1].astype(np.float64) - G_MPS2 * np.sin(roll), 1.5, 8.0, fs, bd)
    x = np.column_stack([bandpass(alpha[:, 2], 1.5, 8.0, fs, bd), -bandpass(alpha[:, 0], 1.5, 8.0, fs, bd)])
    return y[keep], x[keep]


TORSION_GRID = {"freq_hz": tuple(np.arange(3.0, 10.01, 0.5)), "delay_s": tuple(np.arange(-0.1, 0.121, 0.005)),
                "decay": (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)}
"""The grid over which the heel-strike torsion's shape was fitted to voisard's contact-locked yaw rate."""


def _torsion_rate(freq_hz: float, delay_s: float, decay: float) -> F64:
    """The torsion ring's yaw rate per unit angle amplitude (deg/s per deg) at :data:`LOCK_LAGS_S`."""
    w = 2.0 * np.pi * freq_hz
    return w * torsion_kernel(w * (LOCK_LAGS_S - delay_s), decay)[1]


def _torsion_fit(rate_dps: F64, step_s: float, shape: tuple[float, float, float]) -> tuple[float, float]:
    """Least squares of a contact-locked yaw rate on the 1st and 3rd stride harmonics and the torsion
    ring ``shape``: (the ring's angle amplitude in deg, the RMS residual in deg/s)."""
    phi = np.pi * LOCK_LAGS_S / step_s
    x = np.stack([np.sin(phi), np.cos(phi), np.sin(3 * phi), np.cos(3 * phi), _torsion_rate(*shape)], axis=1)
    c = np.linalg.lstsq(x, rate_dps, rcond=None)[0]
    return float(c[-1]), _rms(rate_dps - x @ c)


def choose_lever(data: Path) -> None:
    """Print the lever arm and the heel-strike torsion fitted on voisard, with mobgap_lab held out.

    Rule: the lever ``(r_x, r_z)`` fitted on voisard rounded to 0.05 m; the torsion's shape
    (``freq_hz``, ``delay_s``, ``decay``) with the smallest residual on voisard, its amplitude rounded
    to 0.1 deg.
    """
    rows: dict[str, list[tuple[F64, F64]]] = {}
    for tr in load_real_walking(data):
        ref = next(iter(tr.refs.values()))
        rows.setdefault(tr.dataset, []).append(lever_rows(tr.raw, ref.ic_s))
    print("\n## lever arm: 1.5-8 Hz mediolateral acceleration minus g sin(roll) on (alpha_z, -alpha_x)")
    print(f"{'':22s} {'r_x m':>7s} {'r_z m':>7s}  ML rms g  explained  explained with the voisard lever")
    lever = None
    for name in sorted(rows, key=lambda n: n != "voisard_l5_walk"):  # chosen on voisard, then held out
        parts = rows[name]
        y = np.concatenate([p[0] for p in parts])
        x = np.concatenate([p[1] for p in parts])
        c = np.linalg.lstsq(x, y, rcond=None)[0]
        if lever is None:
            if name != "voisard_l5_walk":
                print("voisard_l5_walk absent: nothing chosen")
                return
            lever = np.round(c / 0.05) * 0.05
        r2 = 1.0 - np.mean((y - x @ c) ** 2) / np.mean(y**2)
        r2v = 1.0 - np.mean((y - x @ lever) ** 2) / np.mean(y**2)
        print(f"{name:22s} {c[0]:+7.3f} {c[1]:+7.3f}  {_rms(y) / G_MPS2:8.3f}  {r2:9.2f}  {r2v:9.2f}")
    if lever is not None:
        print(f"chosen walk_sensor_lever_m = ({lever[0]:+.2f}, 0.0, {lever[1]:+.2f})")
    real = real_locked(data)
    steps: dict[str, list[F64]] = {}
    for tr in load_real_walking(data):
        for ref_name, ref in tr.refs.items():
            steps.setdefault(f"{tr.dataset} ({ref_name})", []).append(ref.ic_s)
    v = real["voisard_l5_walk (foot IMU)"].mean(axis=1)[2]
    ts = _median_step_s(steps["voisard_l5_walk (foot IMU)"])
    fits = [(_torsion_fit(v, ts, shape), shape) for shape in itertools.product(*TORSION_GRID.values())]
    (amp, _), shape = min(fits, key=lambda f: f[0][1])
    print("\n## heel-strike torsion: contact-locked yaw rate = stride harmonics 1 and 3 + ring (deg/s)")
    print(f"{'':30s} ring angle deg  residual dps  (harmonics only)")
    for name, w in real.items():
        m = w.mean(axis=1)[2]
        st = _median_step_s(steps[name])
        a, r = _torsion_fit(m, st, shape)
        phi = np.pi * LOCK_LAGS_S / st
        x = np.stack([np.sin(phi), np.cos(phi), np.sin(3 * phi), np.cos(3 * phi)], axis=1)
        r0 = _rms(m - x @ np.linalg.lstsq(x, m, rcond=None)[0])
        print(f"{name:30s} {a:+14.2f} {r:13.2f}  ({r0:.2f})")
    print(f"chosen walk_heel_strike_torsion = ({round(amp, 1):+.1f}, {shape[0]:.1f}, {shape[1]:.3f}, {shape[2]:.2f})")


ML_TISSUE_BAND_HZ = (3.0, 8.0)
ML_TISSUE_GRID_G_PER_BW_S = (0.016, 0.019, 0.022, 0.025, 0.028)
ML_TISSUE_SHARE_GRID = (0.0, 0.3, 0.5, 0.7, 0.9)
"""The grids over which ``walk_ml_tissue_g_per_bw_s`` and ``walk_ml_tissue_foot_share`` are chosen (default
walk; the knob is off by default, the sweep sets it) and the band they are judged in."""
PSD_AT_HZ = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 20)


def ml_band_locked(raw: RawSession, ic_s: F64, foot: npt.NDArray[np.str_]) -> tuple[F64, F64, F64]:
    """Windows around the ICs of steady straight walking (the steps of :func:`contact_locked`) of
    the :data:`ML_TISSUE_BAND_HZ` band of the mediolateral specific force and of ``g sin(roll)``,
    the roll angle integrated from the band's roll rate, both in g, signed +1 right / -1 left,
    (n_steps, n_lags) each: what the roll's gravity could give in the band against what is there;
    and the sign, (n_steps,) +1 right / -1 left (times it: the window as measured, y left).
    """
    b = analyse_session(raw).body
    assert b.gyr_dps is not None
    fs = b.fs_hz
    t = np.arange(b.n) / fs
    bd = np.array([0, b.n])
    lo, hi = ML_TISSUE_BAND_HZ
    ok = _steady_steps(b, ic_s, t)
    at = ic_s[ok, None] + LOCK_LAGS_S[None, :]
    side = np.where(foot[ok] == "R", 1.0, -1.0)
    ml = bandpass(b.acc_mps2[:, 1].astype(np.float64), lo, hi, fs, bd) / G_MPS2
    roll = np.cumsum(np.radians(bandpass(b.gyr_dps[:, 0].astype(np.float64), lo, hi, fs, bd))) / fs
    g_roll = bandpass(np.sin(roll), lo, hi, fs, bd)
    return np.interp(at, t, ml) * side[:, None], np.interp(at, t, g_roll) * side[:, None], side


def ml_psd(raw: RawSession, ic_s: F64) -> tuple[F64, int]:
    """Welch PSD (g²/Hz, 2.56 s segments) of the mediolateral specific force over the straight
    stretches (1 s inside the first and last IC, 1 Hz low-passed |yaw rate| < 30 deg/s, 2.56 s or
    longer), times their samples, at :data:`PSD_AT_HZ`; and the samples (to pool trials)."""
    from scipy.signal import welch

    b = analyse_session(raw).body
    assert b.gyr_dps is not None
    fs = b.fs_hz
    t = np.arange(b.n) / fs
    yaw = np.abs(lowpass(b.gyr_dps[:, 2], 1.0, fs, np.array([0, b.n])))
    keep = np.flatnonzero((t >= ic_s[0] + 1.0) & (t <= ic_s[-1] - 1.0) & (yaw < 30.0))
    x = b.acc_mps2[:, 1].astype(np.float64) / G_MPS2
    nseg = round(2.56 * fs)
    out, n = np.zeros(len(PSD_AT_HZ)), 0
    for run in np.split(keep, np.flatnonzero(np.diff(keep) > 1) + 1):  # one Welch per stretch
        if run.size >= nseg:
            f, pxx = welch(x[run] - x[run].mean(), fs=fs, nperseg=nseg)
            out += np.interp(PSD_AT_HZ, f, pxx) * run.size
            n += run.size
    return out, n


def _sim_truth(p: RunnerParams, seed: int) -> tuple[RawSession, F64, npt.NDArray[np.str_], F64]:
    """One simulated session: its raw recording, truth ICs (s, sorted), feet, and true mounting."""
    sim = simulate_session(p, seed=seed, session_id=f"mlt{seed}", runner_id="sim", start_time=T0_NS)
    ts = sim.truth_steps
    ic = (ts.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
    o = np.argsort(ic, kind="stable")
    foot = np.asarray(ts.column("foot").to_pylist(), dtype=str)[o]
    return sim.raw, ic[o].astype(np.float64), foot, np.asarray(sim.truth["mounting_true"], dtype=np.float64)


def _sim_ml_band(params: list[RunnerParams], seed0: int) -> tuple[F64, F64, F64]:
    wins = [ml_band_locked(*_sim_truth(p, seed0 + i)[:3]) for i, p in enumerate(params)]
    return tuple(np.concatenate([w[j] for w in wins]) for j in range(3))  # type: ignore[return-value]


def _ml_row(name: str, ml: F64, g_roll: F64) -> float:
    """Print one row of :func:`choose_ml_tissue`; return the part not locked to the contacts (g)."""
    all_g, mean_g = _rms(ml), _rms(ml.mean(axis=0))
    free = float(np.sqrt(max(all_g**2 - mean_g**2, 0.0)))
    print(f"{name:32s} {ml.shape[0]:5d}  {all_g:9.3f} {mean_g:10.3f} {free:10.3f}  {_rms(g_roll):13.4f}")
    return free


FOOT_HEADER = (f"{'':36s} {'L':>4s} {'R':>4s} {'all':>6s} {'common':>7s} {'signed':>7s} {'L mean':>7s} "
               f"{'R mean':>7s} {'r(L,R)':>7s} {'rest':>6s} {'rest/subj':>9s} {'floor':>6s}")


def ml_foot_row(name: str, ml: F64, side: F64, group: npt.NDArray[np.str_], *, end: str = "\n") -> dict[str, float]:
    """Print and return the per-foot contact-locked figures of the 3-8 Hz ML windows, g (RMS over lags).

    ``ml`` (n_steps, n_lags) as signed by :func:`ml_band_locked` (x ``side``: as measured, y left);
    ``common``: the mean over all steps as measured (the same direction on both feet); ``signed``:
    the foot-signed mean (right steps' sign flipped); ``L mean`` / ``R mean``: each foot's mean as
    measured and ``r(L,R)`` their correlation over lags (-1: mirror images, a foot-signed response);
    ``rest``: RMS left after subtracting each foot's mean (pooled), ``rest/subj`` after each
    subject's (``group``) own per-foot means; ``floor``: ``rest / sqrt(steps per foot)``, the RMS a
    per-foot mean shows from the rest alone.
    """
    x = ml * side[:, None]  # as measured
    left, right = side < 0, side > 0
    m_l, m_r = x[left].mean(axis=0), x[right].mean(axis=0)
    rest = _rms(np.where(left[:, None], x - m_l, x - m_r))
    res_g = np.empty_like(x)
    for g in np.unique(group):
        for f in (left, right):
            k = (group == g) & f
            if k.any():
                res_g[k] = x[k] - x[k].mean(axis=0)
    out = {"all": _rms(x), "common": _rms(x.mean(axis=0)), "signed": _rms(ml.mean(axis=0)), "left": _rms(m_l),
           "right": _rms(m_r), "r_lr": float(np.corrcoef(m_l, m_r)[0, 1]), "rest": rest,
           "rest_subject": _rms(res_g), "floor": rest / np.sqrt(min(left.sum(), right.sum()))}
    print(f"{name:36s} {left.sum():4d} {right.sum():4d} {out['all']:6.3f} {out['common']:7.3f} "
          f"{out['signed']:7.3f} {out['left']:7.3f} {out['right']:7.3f} {out['r_lr']:+7.2f} {rest:6.3f} "
          f"{out['rest_subject']:9.3f} {out['floor']:6.3f}", end=end)
    return out


def even_odd(acc_body_mps2: F64, gyr_body_dps: F64, fs: float, ic_s: F64) -> F64:
    """What the alignment's step 2 sees (``signal/align.py``), in a known body frame.

    ``acc_body_mps2``, ``gyr_body_dps`` (N, 3), x forward, y left, z up, uniform at ``fs``; ``ic_s``
    reference ICs (s from the first sample, sorted); the step lag ``T`` their median step time (steps
    below 1.5 s). Returns [even 3-8 Hz ML energy, odd 3-8 Hz ML energy] over the pairs
    (t, t + T) both in straight walking (1 Hz low-passed |yaw rate| < 30 deg/s, between the first and
    last IC), then [even AP, even ML, even AP x ML] of the whole band (mean removed) over the pairs
    both between the first and last IC: sums of squares, g² (to pool sessions).
    """
    n = acc_body_mps2.shape[0]
    bd = np.array([0, n])
    t = np.arange(n) / fs
    d = np.diff(ic_s)
    lag = round(float(np.median(d[d < 1.5])) * fs)
    walk = (t >= ic_s[0]) & (t <= ic_s[-1])
    straight = walk & (np.abs(lowpass(gyr_body_dps[:, 2], 1.0, fs, bd)) < 30.0)
    lo, hi = ML_TISSUE_BAND_HZ
    h = bandpass(acc_body_mps2[:, 1], lo, hi, fs, bd) / G_MPS2
    k = straight[:-lag] & straight[lag:]
    ev, od = (h[:-lag] + h[lag:])[k], (h[:-lag] - h[lag:])[k]
    w = walk[:-lag] & walk[lag:]
    a = acc_body_mps2[:, :2] / G_MPS2
    e = (a[:-lag] + a[lag:])[w]
    e -= e.mean(axis=0)
    return np.array([np.sum(ev**2), np.sum(od**2), np.sum(e[:, 0] ** 2), np.sum(e[:, 1] ** 2),
                     np.sum(e[:, 0] * e[:, 1])])


def even_odd_figures(s: F64) -> tuple[float, float, float, float]:
    """From (pooled) :func:`even_odd` sums: the even share of the 3-8 Hz ML energy, the even part's
    ML/AP energy ratio, its anisotropy (1 - small/large eigenvalue: the alignment trusts its line
    above 0.2) and the angle of its principal line from x (deg, 0 = right)."""
    cov = np.array([[s[2], s[4]], [s[4], s[3]]])
    w, v = np.linalg.eigh(cov)
    ang = float(np.degrees(np.arctan2(v[1, 1], v[0, 1])))
    ang = (ang + 90.0) % 180.0 - 90.0
    return float(s[0] / (s[0] + s[1])), float(s[3] / s[2]), float(1.0 - w[0] / w[1]), ang


EO_HEADER = f"{'':44s} {'3-8 Hz ML even share':>20s} {'even ML/AP':>10s} {'anisotropy':>10s} {'line, deg':>9s}"


def _eo_row(name: str, s: F64) -> None:
    sh, ratio, an, ang = even_odd_figures(s)
    print(f"{name:44s} {sh:20.3f} {ratio:10.3f} {an:10.3f} {ang:+9.1f}")


def sim_even_odd(p: RunnerParams, seed: int) -> F64:
    """:func:`even_odd` of one simulated session in its true body frame (``mounting_true``)."""
    raw, ic, _, r = _sim_truth(p, seed)
    assert raw.gyr_dps is not None
    acc = raw.acc_mps2.astype(np.float64) @ r.T
    gyr = raw.gyr_dps.astype(np.float64) @ r.T
    return even_odd(acc, gyr, raw.sample_rate_hz, ic)


def even_odd_table(trials: list[Trial], ml_tissue: dict[str, object], title: str, *, real: bool = True) -> None:
    """Print the step-even share of the 3-8 Hz ML and the even part's line: real sets (the pipeline's
    frame: right on every real walking trial) pooled, by speed (below 0.6 m/s: mobgap_lab's slow
    walkers) and their least anisotropic trial; the default walk and the six realistic walking
    sessions of validate.py (seeds 300-305) in their true frames, with ``ml_tissue`` overrides."""
    print(f"\n## what the alignment sees: h(t) +- h(t + T), T the median step; pooled energies; simulated: {title}")
    print(EO_HEADER)
    if not real:
        trials = []
    pooled: dict[str, F64] = {}
    worst: dict[str, tuple[float, str]] = {}
    for tr in trials:
        b = analyse_session(tr.raw).body
        assert b.gyr_dps is not None
        s = even_odd(b.acc_mps2.astype(np.float64), b.gyr_dps.astype(np.float64), b.fs_hz,
                     next(iter(tr.refs.values())).ic_s)
        pooled[tr.dataset] = pooled.get(tr.dataset, np.zeros(5)) + s
        slow = "below" if float(np.nanmean(next(iter(tr.refs.values())).speed_mps)) < 0.6 else "from"
        pooled[f"{tr.dataset}, {slow} 0.6 m/s"] = pooled.get(f"{tr.dataset}, {slow} 0.6 m/s", np.zeros(5)) + s
        an = even_odd_figures(s)[2]
        if an < worst.get(tr.dataset, (np.inf, ""))[0]:
            worst[tr.dataset] = (an, tr.name)
    for name, s in pooled.items():
        _eo_row(name, s)
        if name in worst:
            print(f"{'':4s}least anisotropic trial: {worst[name][1]} ({worst[name][0]:.3f})")
    kw = ml_tissue
    _eo_row("default walk (2 sessions)", sim_even_odd(replace(DEFAULT_WALK, **kw), 700)  # type: ignore[arg-type]
            + sim_even_odd(replace(DEFAULT_WALK, **kw), 701))  # type: ignore[arg-type]
    for i in range(6):
        p = replace(walking_scenario(i), **kw)  # type: ignore[arg-type]
        _eo_row(f"realistic walk {i} ({p.walk_speed_mps:g} m/s, seed {300 + i})", sim_even_odd(p, 300 + i))


def choose_ml_tissue(data: Path) -> None:
    """Print how the mediolateral soft-tissue/strap ring was sized: on voisard, mobgap_lab held out.

    First the evidence: the pooled PSD of straight-walking ML acceleration per real set, and, in the
    :data:`ML_TISSUE_BAND_HZ` band around each IC, the ML RMS over all steps, of their foot-signed
    mean (locked to the contacts), the rest (``sqrt(all² - mean²)``) and what gravity through the
    measured roll could give (``g sin(roll)``); then the same per foot (:func:`ml_foot_row`).
    Rule: over :data:`ML_TISSUE_GRID_G_PER_BW_S` x :data:`ML_TISSUE_SHARE_GRID` on the default walk (one
    person), the ``walk_ml_tissue_g_per_bw_s`` and ``walk_ml_tissue_foot_share`` whose band RMS (``all``) and
    per-foot rest (``rest/subj``: one person's own per-foot means taken out) are nearest voisard's.
    Then what the alignment sees (:func:`even_odd_table`) without the ring (the simulator's default:
    off) and with the chosen one. The ring is not on by default: see docs/validation_log.md "tried,
    not kept as default".
    """
    trials = load_real_walking(data)
    psd: dict[str, tuple[F64, int]] = {}
    wins: dict[str, list[tuple[F64, F64, F64]]] = {}
    groups: dict[str, list[npt.NDArray[np.str_]]] = {}
    for tr in trials:
        for ref_name, ref in tr.refs.items():
            foot = ref.foot
            if tr.name in REFERENCE_FEET_SWAPPED:
                foot = np.where(foot == "R", "L", np.where(foot == "L", "R", foot))
            w = ml_band_locked(tr.raw, ref.ic_s, foot)
            wins.setdefault(f"{tr.dataset} ({ref_name})", []).append(w)
            groups.setdefault(f"{tr.dataset} ({ref_name})", []).append(np.full(w[2].size, tr.subject))
        p_n = ml_psd(tr.raw, next(iter(tr.refs.values())).ic_s)
        acc, n = psd.get(tr.dataset, (np.zeros(len(PSD_AT_HZ)), 0))
        psd[tr.dataset] = (acc + p_n[0], n + p_n[1])
    print("\n## straight walking: PSD of the ML acceleration, 1e-4 g²/Hz, at Hz")
    print(f"{'':22s} " + " ".join(f"{f:5d}" for f in PSD_AT_HZ))
    for name, (acc, n) in psd.items():
        print(f"{name:22s} " + " ".join(f"{1e4 * x / max(n, 1):5.2f}" for x in acc))
    lo, hi = ML_TISSUE_BAND_HZ
    print(f"\n## {lo:g}-{hi:g} Hz ML around each IC of steady straight walking (+-0.3 s), g")
    print(f"{'':32s} {'steps':>5s}  {'all steps':>9s} {'their mean':>10s} {'not locked':>10s}  {'g sin(roll)':>13s}")
    for name, w in wins.items():
        _ml_row(name, np.concatenate([x[0] for x in w]), np.concatenate([x[1] for x in w]))
    print(f"\n## {lo:g}-{hi:g} Hz ML around each IC, per foot (as measured, y left), RMS over +-0.3 s, g; "
          "shape: correlation of the foot-signed mean with voisard's")
    print(FOOT_HEADER + f" {'shape':>6s}")
    ref_v: dict[str, float] = {}
    mean_v = np.zeros(LOCK_LAGS_S.size)
    for name, w in wins.items():
        ml = np.concatenate([x[0] for x in w])
        if name.startswith("voisard"):
            mean_v = ml.mean(axis=0)
        f = ml_foot_row(name, ml, np.concatenate([x[2] for x in w]), np.concatenate(groups[name]), end=" ")
        print(f"{np.corrcoef(ml.mean(axis=0), mean_v)[0, 1]:6.2f}")
        if name.startswith("voisard"):
            ref_v = f
    best, best_gap = (0.0, 0.0), np.inf
    for amp, share in itertools.product(ML_TISSUE_GRID_G_PER_BW_S, ML_TISSUE_SHARE_GRID):
        ml, _, side = _sim_ml_band([replace(DEFAULT_WALK, walk_ml_tissue_g_per_bw_s=amp,
                                            walk_ml_tissue_foot_share=share)] * 2, 700)
        half = side.size // 2  # the two sessions: one person
        f = ml_foot_row(f"default walk, {amp:.3f} g s/BW, share {share:.1f}", ml, side,
                        np.repeat(np.array(["s0", "s1"]), [half, side.size - half]), end=" ")
        print(f"{np.corrcoef(ml.mean(axis=0), mean_v)[0, 1]:6.2f}")
        gap = float(np.hypot(f["all"] - ref_v["all"], f["rest_subject"] - ref_v["rest_subject"]))
        if gap < best_gap:
            best, best_gap = (amp, share), gap
    print(f"chosen walk_ml_tissue_g_per_bw_s = {best[0]:.3f}, walk_ml_tissue_foot_share = {best[1]:.1f} "
          f"(all and rest/subj nearest voisard's {ref_v['all']:.3f} / {ref_v['rest_subject']:.3f} g)")
    even_odd_table(trials, {}, "without the ring (the default: off)")
    even_odd_table(trials, {"walk_ml_tissue_g_per_bw_s": best[0], "walk_ml_tissue_foot_share": best[1]},
                   "the chosen ring", real=False)


def _band_rms(x: F64, fs: float) -> float:
    """RMS of the 0.5-8 Hz band of ``x``."""
    return float(np.sqrt(np.mean(bandpass(x, 0.5, 8.0, fs, np.array([0, x.size])) ** 2)))


def sway_table() -> None:
    """The simulated walking CoM's sideways sway against what the sensor reads (``--sway``).

    Per realistic walking speed (:func:`sim_accuracy.walking_scenario`, seed = its index) without
    U-turns, pauses and hesitations, noise-free, sensor frame = body frame: the 0.5-8 Hz RMS of
    the CoM's lateral acceleration (second derivative of the truth lateral position, path frame)
    and of the sensor's mediolateral axis (g), the median CoM excursion per stride (truth, cm) and
    the inverted pendulum's lateral speed at a step change ``(w/2) w0 tanh(w0 T/2)`` where the
    simulator has those knobs (m/s; ``nan`` before them). Straight steady walking, 15 s cut at
    each end.
    """
    print("\n## simulated CoM sway vs sensor ML (straight steady walking, noise-free)")
    print("   speed_mps | cadence_spm | com_lat_rms_g | sensor_ml_rms_g | com_excursion_cm | lipm_speed_mps")
    for i, v in enumerate(WALK_SPEEDS_MPS):
        p = replace(walking_scenario(i), walk_uturns_per_min=0.0, walk_pauses=0,
                    walk_hesitations_per_min=0.0, noise=False, mounting="identity",
                    misalignment_deg=0.0, misalignment_exact=True)
        sim = simulate_session(p, seed=i, session_id="sway", runner_id="sim", start_time=T0_NS,
                        keep_signals=True)
        sig = sim.signals
        assert sig is not None
        fs = p.sample_rate_hz
        m = (sig.t_s > 15.0) & (sig.t_s < sig.t_s[-1] - 15.0)
        a_lat = np.gradient(np.gradient(sig.y_m, sig.t_s), sig.t_s) / G_MPS2

        exc = np.asarray(sim.truth_strides.column("ml_excursion_cm").to_numpy(zero_copy_only=False), float)
        w, h = getattr(p, "walk_step_width_m", None), getattr(p, "walk_com_height_m", None)
        w0 = np.sqrt(G_MPS2 / h) if h else float("nan")
        lipm = w / 2.0 * w0 * np.tanh(w0 * 30.0 / p.walk_cadence_spm) if w else float("nan")
        print(f"{v:12.2f} | {p.walk_cadence_spm:11.1f} | {_band_rms(a_lat[m], fs):13.3f} | "
              f"{_band_rms(sig.acc_sensor_mps2[m, 1] / G_MPS2, fs):15.3f} | {np.nanmedian(exc):16.2f} | {lipm:14.3f}")


def _table(title: str, rows: list[dict[str, float]]) -> None:
    print(f"\n## {title}")
    for cols in (COLUMNS, ("speed_mps", *BAND_COLUMNS)):
        print(" | ".join(f"{c:>13s}" for c in cols))
        for lo, hi in ((0.0, 0.6), (0.6, 0.95), (0.95, 1.2), (1.2, 9.0)):
            sel = [r for r in rows if lo <= r["speed_mps"] < hi]
            if sel:
                med = [float(np.nanmedian([r[c] for r in sel])) if any(np.isfinite(r[c]) for r in sel)
                       else float("nan") for c in cols]
                print(" | ".join(f"{v:13.3f}" for v in med) + f"   (median of {len(sel)}, speed {lo:g}-{hi:g} m/s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--locked-only", action="store_true", help="only the contact-locked averages")
    ap.add_argument("--waveforms", action="store_true", help="print the contact-locked mean waveforms")
    ap.add_argument("--choose", action="store_true", help="only the choice of the walking-contact knobs")
    ap.add_argument("--choose-pelvis", action="store_true", help="only the choice of the walking pelvis harmonics")
    ap.add_argument("--ablate", action="store_true", help="also the simulated scenarios with parts switched off")
    ap.add_argument("--choose-lever", action="store_true",
                    help="only the choice of the sensor's lever arm and the heel-strike torsion")
    ap.add_argument("--sway", action="store_true",
                    help="only the simulated CoM's sideways sway against the sensor's ML")
    ap.add_argument("--choose-ml-tissue", action="store_true",
                    help="only the choice of the mediolateral soft-tissue/strap ring")
    args = ap.parse_args(argv)
    if args.choose_ml_tissue:
        choose_ml_tissue(args.data)
        return 0
    if args.sway:
        sway_table()
        return 0
    if args.choose_lever:
        choose_lever(args.data)
        return 0
    if args.choose_pelvis:
        choose_pelvis(args.data)
        return 0
    if args.choose:
        choose(args.data)
        return 0
    locked_table(args.data, args.sessions, waveforms=args.waveforms)
    if args.locked_only:
        return 0
    root = args.data / "real" / "voisard_l5_walk"
    if root.is_dir():
        _table("real: voisard_l5_walk", real_stats(root))
    else:
        print(f"voisard_l5_walk: {root} not found, skipped")
    if (args.data / "real" / "mobgap_lab").is_dir():
        _table("real, held out: mobgap_lab (per reference walking bout)", mobgap_stats(args.data))
    _table("simulated: realistic walking scenarios", sim_stats(args.sessions))
    if args.ablate:
        for label, kw in WITHOUT.items():
            _table(f"simulated: realistic walking scenarios {label}", sim_stats(args.sessions, **kw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
