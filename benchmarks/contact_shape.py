"""Where the running toe-off error comes from: the contact's shape, or the sacrum's signal.

    python benchmarks/contact_shape.py [--data ../shared/data] [--minutes 2]

The spring-mass toe-off (``signal/running.py``) assumes a half-sine vertical force. Fed a force
curve itself (the force plate's vGRF on the real trials, the simulator's true vGRF on the
simulated runners; in BW, as if it were the sacral signal), the event detector's TO error is the
error of that assumption alone ("shape"). The pipeline's own TO error on the sacral signal
("sacrum") adds what lies between the force and the sensor: soft tissue, the sacrum not being
the centre of mass. Per group, also the force curve itself: its mean over each tenth of the
contact (BW, force-plate IC to TO; a group: the mean over its trials or sessions) and its peak
over its mean (a half-sine's is pi / 2; the more peaked the contact, the more the spring-mass
peak vGRF, (pi / 2) step time / contact time, under-reads it), and, on the real trials, how far
the 5 Hz low-passed sacral signal stays above the 5 Hz low-passed force over the last 60 ms
before the force-plate TO.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.pipeline import process_raw
from imuback.signal.activity import RUN, Bouts
from imuback.signal.dsp import lowpass
from imuback.signal.events import detect_steps
from imuback.signal.params import EventParams
from imuback.simulate.runner import simulate_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import sim_accuracy
from matching import match

F64 = npt.NDArray[np.float64]
FAST_HZ = 20.0
"""A low-pass that leaves a contact's shape nearly as it is (its TO error: the model's alone)."""


def detector_on(force_bw: F64, fs_hz: float, lowpass_hz: float = 5.0,
                onset_g: float = EventParams().onset_g) -> tuple[F64, F64]:
    """(IC, TO) in s of the running contacts the event detector finds in a force curve (BW), its
    spring-mass TO read on the ``lowpass_hz`` signal (the pipeline's: 5 Hz), its tangents
    continued to ``onset_g`` (the pipeline's: 0.066)."""
    n = force_bw.size
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([n]), label=np.array([RUN], np.int8))
    st = detect_steps(force_bw, fs_hz=fs_hz, bounds=np.array([0, n]), bouts=bouts,
                      params=EventParams(run_to_lowpass_hz=lowpass_hz, onset_g=onset_g))
    return st.ic_pos / fs_hz, st.to_pos / fs_hz


def tenths(force_bw: F64, fs_hz: float, ic_s: F64, to_s: F64) -> F64:
    """(11,) mean force (BW) over each tenth of the contacts [ic, to), averaged over contacts,
    then the contacts' mean peak / mean force (a half-sine: pi / 2 = 1.57)."""
    u = (np.arange(100) + 0.5) / 100.0
    pos = ic_s[:, None] * fs_hz + u[None, :] * ((to_s - ic_s) * fs_hz)[:, None]
    vals = np.interp(pos, np.arange(force_bw.size), force_bw)
    ratio = np.mean(vals.max(axis=1) / vals.mean(axis=1))
    return np.append(vals.reshape(ic_s.size, 10, 10).mean(axis=(0, 2)), ratio)


def _line(name: str, shape: F64, sacrum: F64, curve: F64, extra: str = "") -> str:
    return (f"{name:<22}{shape.size:>6}  {real_running.ms(shape):<17}  {real_running.ms(sacrum):<17}  "
            + " ".join(f"{v:4.2f}" for v in curve[:10]) + f"   {curve[10]:4.2f}" + extra)


HEADER = (f"{'group':<22}{'steps':>6}  {'TO shape':<17}  {'TO sacrum':<17}  "
          "force over each tenth of the contact (BW)             peak/mean")


def real(root: Path) -> list[str]:
    """Alcantara trials by speed and by slope (and all): shape-only and pipeline TO error, force
    curve, lag; then the same TO error split into its parts."""
    trials = real_running.load_trials(root)
    grf = np.loadtxt(root / "GRF.csv", delimiter=",")
    acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")[:, :grf.shape[1]]
    s = real_running.score(trials)
    fs = real_running.FS_HZ
    b = np.array([0, grf.shape[1]])
    per: list[tuple[F64, F64, F64, F64]] = []
    for k, t in enumerate(trials):
        shape = []
        for hz in (5.0, FAST_HZ):
            ic, to = detector_on(grf[k], fs, hz)
            ei, ri = match(ic, t.ref_ic_s, 0.06)
            shape.append(to[ei] - t.ref_to_s[ri])
        f5, v5 = lowpass(grf[k], 5.0, fs, b), lowpass(acc[k], 5.0, fs, b)
        last = np.round(t.ref_to_s[:, None] * fs).astype(np.int64) - np.arange(30)[None, :]
        ok = last.min(axis=1) >= 0
        excess = (v5[last[ok]] - f5[last[ok]]).mean(axis=1)
        per.append((shape[0], shape[1], excess, tenths(grf[k], fs, t.ref_ic_s, t.ref_to_s)))
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    groups = ([(f"{v:.2f} m/s", speed == v) for v in np.unique(speed)]
              + [(f"{v:+.0f} deg", slope == v) for v in np.unique(slope)]
              + [("all", np.ones(len(trials), dtype=bool))])
    lines = ["# real: alcantara_treadmill by speed and slope (TO shape: the detector fed the force plate's vGRF)",
             HEADER + "   sacrum - force, last 60 ms"]
    parts = ["", "# the same TO error in parts: the half-sine model on the force plate's vGRF at "
             f"{FAST_HZ:g} Hz (the contact's shape),",
             "# + what the 5 Hz low-pass adds (= TO shape), + what the sacrum adds (= TO sacrum); "
             "mean contact time (force plate)",
             "# n sac: the steps matched on the sacrum (its columns); the shape columns are over the steps "
             "the force plate's vGRF matched",
             f"{'group':<22}{'n sac':>6}  {'contact':>8}  {'shape ' + format(FAST_HZ, 'g') + ' Hz':>12}  "
             f"{'+ low-pass':>10}  {'+ sacrum':>9}  {'= TO sacrum':>11}  median |TO sacrum|"]
    for name, sel in groups:
        ks = np.flatnonzero(sel)
        sh5 = np.concatenate([per[k][0] for k in ks])
        sh_fast = np.concatenate([per[k][1] for k in ks])
        excess = np.concatenate([per[k][2] for k in ks])
        curve = np.mean([per[k][3] for k in ks], axis=0)
        sacrum = s.to_err_s[np.isin(s.trial, ks)]
        lines.append(_line(name, sh5, sacrum, curve, f"   {np.mean(excess):+.2f} g"))
        tc = np.concatenate([trials[k].ref_to_s - trials[k].ref_ic_s for k in ks])
        parts.append(_parts(name, 1e3 * float(tc.mean()), sh_fast, sh5, sacrum))
    return lines + parts


def simulated(minutes: float) -> list[str]:
    """validate.py's six simulated scenarios (without gaps): shape-only and pipeline TO error,
    then the same split into its parts."""
    lines = ["# simulated: sim_accuracy.py's scenarios, no gaps (TO shape: the detector fed the true vGRF)",
             HEADER]
    parts = ["", "# the same in parts (as above; contact: the scenario's, sample rate: the sensor's; n sac as above)",
             f"{'group':<22}{'n sac':>6}  {'contact':>8}  {'shape ' + format(FAST_HZ, 'g') + ' Hz':>12}  "
             f"{'+ low-pass':>10}  {'+ sacrum':>9}  {'= TO sacrum':>11}  median |TO sacrum|"]
    all_shape, all_fast, all_sacrum, curves = [], [], [], []
    for i in range(6):
        p = dataclasses.replace(sim_accuracy.scenario(i, minutes), gaps_per_hour=0.0)
        sim = simulate_session(p, seed=100 + i, session_id=f"acc{i}", runner_id="sim", start_time=sim_accuracy.T0_NS,
                               keep_signals=True)
        assert sim.signals is not None
        sig, fs, t0 = sim.signals, p.sample_rate_hz, sim.truth["start_time_ns"]
        run = np.asarray(sim.truth_steps.column("activity").to_pylist()) == "run"
        ic_t = (sim_accuracy._secs(sim.truth_steps.column("ic_time")) - t0 / 1e9)[run]
        to_t = (sim_accuracy._secs(sim.truth_steps.column("to_time")) - t0 / 1e9)[run]
        shapes = []
        for hz in (5.0, FAST_HZ):
            ic, to = detector_on(sig.vgrf_bw, fs, hz)
            ei, ri = match(ic + sig.t_s[0], ic_t, 0.06)
            shapes.append(to[ei] + sig.t_s[0] - to_t[ri])
        shape, fast = shapes
        st = process_raw(sim.raw).steps
        e_run = np.asarray(st.column("activity").to_pylist()) == "run"
        e_ic = (sim_accuracy._secs(st.column("ic_time")) - t0 / 1e9)[e_run]
        e_to = (sim_accuracy._secs(st.column("to_time")) - t0 / 1e9)[e_run]
        ej, rj = match(e_ic, ic_t, 0.1)
        sacrum = e_to[ej] - to_t[rj]
        curve = tenths(sig.vgrf_bw, fs, ic_t - sig.t_s[0], to_t - sig.t_s[0])
        name = f"{p.foot_strike} {p.contact_time_s:.2f} s"
        lines.append(_line(name, shape, sacrum, curve))
        parts.append(_parts(f"{name} {p.sample_rate_hz:g} Hz", 1e3 * p.contact_time_s, fast, shape, sacrum))
        all_shape.append(shape)
        all_fast.append(fast)
        all_sacrum.append(sacrum)
        curves.append(curve)
    lines.append(_line("all", np.concatenate(all_shape), np.concatenate(all_sacrum), np.mean(curves, axis=0)))
    half = np.array([np.mean(np.sin(np.pi * ((np.arange(10) + 0.5) / 100.0 + k / 10.0))) for k in range(10)])
    lines.append(f"{'(a half-sine, peak 1)':<68}" + " ".join(f"{v:4.2f}" for v in half) + f"   {np.pi / 2:4.2f}")
    parts.append(_parts("all", float("nan"), np.concatenate(all_fast), np.concatenate(all_shape),
                        np.concatenate(all_sacrum)))
    return lines + parts


def _parts(name: str, contact_ms: float, fast: F64, shape: F64, sacrum: F64) -> str:
    """One row of the TO error in parts (means, ms) and the median |TO error| on the sacrum; the
    count is the sacrum's matched steps (``shape`` and ``fast`` hold the force plate's)."""
    c = f"{contact_ms:>5.0f} ms" if np.isfinite(contact_ms) else f"{'':>8}"
    return (f"{name:<22}{sacrum.size:>6}  {c}  {1e3 * fast.mean():>+9.1f} ms  "
            f"{1e3 * (shape.mean() - fast.mean()):>+7.1f} ms  {1e3 * (sacrum.mean() - shape.mean()):>+6.1f} ms  "
            f"{1e3 * sacrum.mean():>+8.1f} ms  {1e3 * np.median(np.abs(sacrum)):>6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--minutes", type=float, default=2.0, help="minutes of running per simulated session")
    args = ap.parse_args(argv)
    root = args.data / "real" / "alcantara_treadmill"
    if root.exists():
        print("\n".join(real(root)))
    else:
        print(f"alcantara_treadmill: skipped ({root} not found)")
    print()
    print("\n".join(simulated(args.minutes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
