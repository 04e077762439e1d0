"""Signal statistics of real and simulated walking side by side (walk–U-turn–walk).

    python benchmarks/sim_vs_real.py [--data ../shared/data] [--sessions 8]

Real: voisard_l5_walk (52 trials, Xsens at L5, foot-sensor ICs). Simulated: the realistic walking
scenarios of benchmarks/sim_accuracy.py (truth ICs). The same rules for both: the walk spans the
first to the last reference IC; "straight" is where the 1 Hz low-passed yaw rate stays below
30 deg/s; ``step_rcv_pct`` is the robust
step-time CV (1.4826 MAD / median: steady walking without its starts, stops and turn approaches);
amplitudes are RMS of the 0.5-8 Hz band of the body-frame acceleration (frame found by
the pipeline), in g. The simulator is never tuned to these numbers: they show where it differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.signal.dsp import bandpass, lowpass
from imuback.signal.frames import G_MPS2
from imuback.signal.session import analyse_session
from imuback.simulate.runner import simulate_session
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from align_any import DEFAULT_DATA, voisard_raws
from sim_accuracy import walking_scenario

F64 = npt.NDArray[np.float64]
T0_NS = 1_600_000_000 * 10**9
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
    return {
        "speed_mps": speed_mps,
        "cadence_spm": 60.0 / float(np.median(steady)),
        "step_cv_pct": 100.0 * float(np.std(steady) / np.mean(steady)),
        "step_rcv_pct": 100.0 * 1.4826 * float(np.median(np.abs(steady - np.median(steady))) / np.median(steady)),
        "vert_rms_g": float(np.sqrt(np.mean(acc[straight, 2] ** 2))),
        "ap_rms_g": float(np.sqrt(np.mean(acc[straight, 0] ** 2))),
        "ml_rms_g": float(np.sqrt(np.mean(acc[straight, 1] ** 2))),
        "turn_peak_dps": float(yaw[walk].max()),
        "turn_s": float(np.count_nonzero(turning)) / fs / max(n_turns, 1),
        "turn_vert_ratio": float(np.sqrt(np.mean(acc[turning, 2] ** 2) / np.mean(acc[straight, 2] ** 2))),
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


def sim_stats(sessions: int) -> list[dict[str, float]]:
    out = []
    for i in range(sessions):
        p = walking_scenario(i)
        sim = simulate_session(p, seed=500 + i, session_id=f"svr{i}", runner_id="sim", start_time=T0_NS)
        ic = (sim.truth_steps.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
        out.append(walk_stats(sim.raw, np.sort(ic.astype(np.float64)), p.walk_speed_mps))
    return out


def _table(title: str, rows: list[dict[str, float]]) -> None:
    print(f"\n## {title}")
    print(" | ".join(f"{c:>13s}" for c in COLUMNS))
    for lo, hi in ((0.0, 0.6), (0.6, 0.95), (0.95, 1.2), (1.2, 9.0)):
        sel = [r for r in rows if lo <= r["speed_mps"] < hi]
        if sel:
            med = [float(np.median([r[c] for r in sel])) for c in COLUMNS]
            print(" | ".join(f"{v:13.3f}" for v in med) + f"   (median of {len(sel)}, speed {lo:g}-{hi:g} m/s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sessions", type=int, default=8)
    args = ap.parse_args(argv)
    root = args.data / "real" / "voisard_l5_walk"
    if root.is_dir():
        _table("real: voisard_l5_walk", real_stats(root))
    else:
        print(f"voisard_l5_walk: {root} not found, skipped")
    _table("simulated: realistic walking scenarios", sim_stats(args.sessions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
