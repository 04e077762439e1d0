"""Why the simulated steps into a stall are not weak: the simulated slow walk step by step.

    python benchmarks/sim_stall_steps.py

``benchmarks/slow_steps.py`` finds none of the ~10 steps into a stall of the simulated 0.45 m/s
walk weak (``vert/med`` < 0.5), where a third to a half of real ones are. This prints, for the same
sessions (``sim_accuracy.walking_scenario`` 0 and 4, seeds 300 and 304) and with the same reading
(:func:`slow_steps.step_rows`: the pipeline's body frame, truth ICs):

1. every step into a stall (``T/med`` > 1.6) with the step before and after it: IC time (s from the
   first sample), whether the simulator shuffled it (its truth ``shuffles_s``), the interval to the
   next IC, ``T/med``, ``vert/med``; the same vertical ratio read from the noise-free total vGRF
   (3 Hz low-passed, BW: what the body does, without sensor, tissue or the pipeline's frame); and
   the sacral height range from the IC to the next one, at most 0.8 s (mm, noise-free), and its
   highest point over the standing height (``top``, mm; the sacrum's height 2 s into the session's
   opening stand);
2. a summary per variant in which only ``shuffle_lift_frac`` changes (0.25 as simulated, 0.999: no
   shuffle, 0.01; the same random draws), and the 1.1 m/s walks (scenario 2 and 6, seeds 302 and
   306) given the slow walk's shuffles and hesitations: is the vertical peak after IC the lift's?
3. the nominal walking hump's ``q`` against the flat shape's (``forces.flat_walk_shape_q``) at
   0.45 and 1.1 m/s: what a shuffle's lift can scale.

Measures the simulator only; nothing here is chosen on the pipeline.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sim_accuracy as sa
import slow_feet as sf
import slow_steps as ss
from imuback.signal.dsp import lowpass
from imuback.signal.params import PipelineParams
from imuback.simulate.forces import flat_walk_shape_q
from imuback.simulate.params import RunnerParams

F64 = npt.NDArray[np.float64]
SLOW_WALKS = sf.SIM_SLOW
BRISK_WALKS = (2, 6)
"""``walking_scenario`` indices at 1.1 m/s (seeds 302 and 306)."""


def _rel(x: F64) -> F64:
    out: F64 = x / np.maximum(median_filter(x, size=5, mode="nearest"), 1e-6)
    return out


def kept_ics(ic_s: F64, n: int, fs: float) -> npt.NDArray[np.bool_]:
    """Which of the sorted ICs ``step_rows`` keeps: a next IC under 4 s later, ±1 s inside the record."""
    nxt = np.append(np.diff(ic_s), np.inf)
    i0 = np.round(ic_s * fs).astype(np.int64)
    h = round(1.0 * fs)
    out: npt.NDArray[np.bool_] = (nxt < 4.0) & (i0 - h >= 0) & (i0 + h < n)
    return out


def session_rows(p: RunnerParams, seed: int) -> dict[str, F64]:
    """Per kept truth IC of one simulated session: ``step_rows``'s columns plus ``ic_s``, ``shuffle``
    (1 where the simulator shuffled that step), ``vgrf_rel`` and ``rise_mm`` (see the module docstring)."""
    sim = sa.simulate_session(p, seed=seed, session_id="stall", runner_id="sim", start_time=sa.T0_NS,
                              keep_signals=True)
    assert sim.signals is not None
    ts = sim.truth_steps
    ic = (np.asarray(ts.column("ic_time").cast("int64").to_numpy(), dtype=np.int64) - int(sim.raw.time_ns[0])) / 1e9
    keep = ((np.asarray(ts.column("activity").to_pylist()) == "walk")
            & ~np.asarray(ts.column("lost_in_gap").to_pylist(), dtype=bool))
    o = np.argsort(ic, kind="stable")
    ic, keep = ic[o], keep[o]
    got = sf.capture(sim.raw, PipelineParams())
    r = ss.step_rows(got, sf.Slow(set_name="", raw=sim.raw, ic_s=ic, foot=np.full(ic.size, ""), keep=keep))
    ic = ic[keep]
    ic = ic[kept_ics(ic, got["body"].n, got["body"].fs_hz)]
    sig = sim.signals
    fs = 1.0 / float(sig.t_s[1] - sig.t_s[0])
    f3 = lowpass(sig.vgrf_bw.astype(np.float64), 3.0, fs, np.array([0, sig.t_s.size]))
    j = np.round(ic * fs).astype(np.int64)
    vp = (f3[j[:, None] + np.arange(round(0.3 * fs))[None, :]].max(axis=1)
          - f3[j[:, None] + np.arange(-round(fs), round(fs))[None, :]].mean(axis=1))
    lag = np.arange(round(0.8 * fs))
    z = sig.z_m[j[:, None] + lag[None, :]]
    nxt = np.append(np.diff(ic), np.inf)
    z = np.where(lag[None, :] <= nxt[:, None] * fs, z, np.nan)  # up to the next IC
    shuffles = np.asarray([x for seg in sim.truth["segments"] for x in seg.get("shuffles_s", [])])
    shuffled = (np.any(np.abs(ic[:, None] - shuffles[None, :]) < 0.02, axis=1) if shuffles.size
                else np.zeros(ic.size, dtype=bool))
    return {**r, "ic_s": ic, "shuffle": shuffled.astype(float), "vgrf_rel": _rel(vp),
            "rise_mm": 1000.0 * (np.nanmax(z, axis=1) - np.nanmin(z, axis=1)),
            "top_mm": 1000.0 * (np.nanmax(z, axis=1) - np.interp(2.0, sig.t_s, sig.z_m))}


def stall_table(r: dict[str, F64]) -> list[str]:
    """Lines of part 1: each step into a stall with its neighbours (``>`` marks the stall step)."""
    stall = np.flatnonzero(r["T_rel"] > 1.6)
    show = np.unique(np.clip(np.concatenate([stall - 1, stall, stall + 1]), 0, r["T"].size - 1))
    lines = []
    for k in show:
        lines.append(f"{'>' if k in stall else ' '} {r['ic_s'][k]:7.2f} {'shuffle' if r['shuffle'][k] else 'full':>7s} "
                     f"{r['T'][k]:6.2f} {r['T_rel'][k]:6.2f} {r['v_rel'][k]:6.2f} {r['vgrf_rel'][k]:6.2f} "
                     f"{r['rise_mm'][k]:6.1f} {r['top_mm'][k]:6.1f}")
    return lines


def summary_line(name: str, r: dict[str, F64]) -> str:
    """Part 2: steps into a stall, then the other shuffles, then the plain steps (none of the three
    next to a stall): count, median vert/med, weak count, median vGRF ratio, median rise."""
    stall = r["T_rel"] > 1.6
    near = stall | np.r_[False, stall[:-1]] | np.r_[stall[1:], False]
    sh = (r["shuffle"] > 0) & ~near
    plain = (r["shuffle"] == 0) & ~near

    def cell(m: npt.NDArray[np.bool_]) -> str:
        if not m.any():
            return f"{0:3d}   nan   0   nan    nan"
        return (f"{int(m.sum()):3d} {np.median(r['v_rel'][m]):5.2f} {int((r['v_rel'][m] < 0.5).sum()):3d} "
                f"{np.median(r['vgrf_rel'][m]):5.2f} {np.median(r['rise_mm'][m]):6.1f}")

    return f"{name:44s} | {cell(stall)} | {cell(sh)} | {cell(plain)}"


def _pooled(mod: Callable[[RunnerParams], RunnerParams], idx: tuple[int, ...]) -> dict[str, F64]:
    rs = [session_rows(mod(sa.walking_scenario(i)), 300 + i) for i in idx]
    return {k: np.concatenate([x[k] for x in rs]) for k in rs[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args(argv)
    rep = dataclasses.replace
    print("# 1. the simulated 0.45 m/s walks: each step into a stall (>) and its neighbours")
    print(f"  {'IC s':>7s} {'step':>7s} {'T s':>6s} {'T/med':>6s} {'v/med':>6s} {'vGRF':>6s} {'rise':>6s} {'top':>6s}"
          "   (v/med: slow_steps.py's; vGRF: its ratio of the noise-free vGRF; rise, top: mm, IC to next IC, <= 0.8 s)")
    for i in SLOW_WALKS:
        print(f"scenario {i}, seed {300 + i}")
        print("\n".join(stall_table(session_rows(sa.walking_scenario(i), 300 + i))))
    print("\n# 2. only the shuffle's lift changes (the same draws); columns per group: n, median v/med, "
          "weak (v/med < 0.5), median vGRF ratio, median rise mm")
    print(f"{'variant':44s} | {'steps into a stall':>26s} | {'other shuffles':>26s} | {'plain steps':>26s}")
    slow_hes = {"walk_shuffle_share": 0.1, "walk_hesitations_per_min": 2.0}
    variants: list[tuple[str, Callable[[RunnerParams], RunnerParams], tuple[int, ...]]] = [
        ("0.45 m/s, lift 0.25 (as simulated)", lambda p: p, SLOW_WALKS),
        ("0.45 m/s, lift 0.999 (no shuffle)", lambda p: rep(p, shuffle_lift_frac=0.999), SLOW_WALKS),
        ("0.45 m/s, lift 0.01", lambda p: rep(p, shuffle_lift_frac=0.01), SLOW_WALKS),
        ("1.1 m/s + slow walk's shuffles, lift 0.25", lambda p: rep(p, **slow_hes), BRISK_WALKS),
        ("1.1 m/s + slow walk's shuffles, lift 0.999",
         lambda p: rep(p, shuffle_lift_frac=0.999, **slow_hes), BRISK_WALKS),
    ]
    for name, mod, idx in variants:
        print(summary_line(name, _pooled(mod, idx)))
    print("\n# 3. the nominal walking hump against the flat shape (the lift scales the difference)")
    for i in (SLOW_WALKS[0], BRISK_WALKS[0]):
        p = sa.walking_scenario(i)
        tc_over_t = 2.0 * p.walk_duty_factor  # a walking contact lasts T + (2 duty - 1) T
        q_flat = float(flat_walk_shape_q(np.array([tc_over_t]))[0])
        print(f"{p.walk_speed_mps:.2f} m/s: walk_shape_q {p.walk_shape_q:.3f}, flat q {q_flat:.3f} at tc/T "
              f"{tc_over_t:.2f}: departure {p.walk_shape_q - q_flat:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
