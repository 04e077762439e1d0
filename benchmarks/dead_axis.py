"""The dead-accelerometer-axis check (``imuback.core``, ``UnitsError`` kind ``acc_dead``) on every real
and simulated recording: how far each live axis sits above the threshold.

    python benchmarks/dead_axis.py [--data ../shared/data] [FILE ...]

An axis is dead when, while |acc| varies (SD > 0.5 m/s²), its SD is at most ``DEAD_AXIS_SD_LSB``
steps of the file's resolution (the smallest step between two distinct values of its axes). For
every recording: the resolution, and the smallest live-axis SD and peak-to-peak in m/s² and in
steps; per dataset the smallest of these (the margin) and the number refused. FILE: any recording
imuback reads (e.g. the raw Parquet of ``imuback demo``, the zip of ``imuback demo --phone``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from imuback.core import ACC_COLUMNS, DEAD_AXIS_SD_LSB, RawSession, acc_resolution_mps2, check_units
from imuback.errors import UnitsError
from imuback.simulate.runner import simulate_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import real_walking
from sim_accuracy import T0_NS, phone_scenario, scenario


def recordings(data: Path, files: list[str], *, sim_sessions: int, sim_minutes: float
               ) -> Iterator[tuple[str, str, RawSession]]:
    """(dataset, name, raw session) of every real recording under ``data/real``, the simulated
    sessions of sim_accuracy.py (strapped on and phone in a loose belt), and ``files``."""
    v, m, a = (data / "real" / d for d in ("voisard_l5_walk", "mobgap_lab", "alcantara_treadmill"))
    if v.exists():
        for t in real_walking.voisard_trials(v):
            yield "voisard_l5_walk", t.name, t.raw
    if m.exists():
        for name, trial in real_walking.mobgap_mat_trials(m):
            yield "mobgap_lab", name, real_walking.mobgap_raw(name, trial)
    if a.exists():
        for t in real_running.load_trials(a):
            yield "alcantara_treadmill", t.raw.session_id, t.raw
    for i in range(sim_sessions):
        ids = {"runner_id": "sim", "start_time": T0_NS}
        yield "simulated", f"scenario {i}", simulate_session(scenario(i, sim_minutes), seed=100 + i,
                                                             session_id=f"s{i}", **ids).raw
        yield "simulated phone", f"phone {i}", simulate_session(phone_scenario(i, sim_minutes), seed=200 + i,
                                                                session_id=f"p{i}", **ids).raw
    if files:
        import imuback

        for f in files:
            for raw in imuback.read_sessions(f, runner_id="files"):  # for those that name no runner
                yield "files", f"{Path(f).name} {raw.session_id}", raw


def axis_stats(raw: RawSession) -> dict[str, object]:
    """What the check sees (on all samples): moving or not, the resolution, and each judged axis's
    SD and peak-to-peak (m/s²)."""
    acc = raw.acc_mps2.astype(np.float64)
    judged = [i for i, c in enumerate(ACC_COLUMNS) if c not in raw.acc_absent]
    moving = float(np.std(np.linalg.norm(acc, axis=1))) > 0.5
    lsb = acc_resolution_mps2(acc, judged)
    try:
        check_units(raw.acc_mps2, raw.gyr_dps, source=raw.source or raw.session_id, acc_absent=raw.acc_absent)
        refused = ""
    except UnitsError as exc:
        refused = exc.kind
    return {"moving": moving, "lsb": lsb, "sd": acc[:, judged].std(axis=0), "ptp": np.ptp(acc[:, judged], axis=0),
            "axes": [ACC_COLUMNS[i] for i in judged], "refused": refused}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--sim-sessions", type=int, default=3)
    ap.add_argument("--sim-minutes", type=float, default=2.0)
    args = ap.parse_args(argv)
    print(f"threshold: live-axis SD must exceed {DEAD_AXIS_SD_LSB:g} x the file's resolution while |acc| "
          "SD > 0.5 m/s²")
    print(f"{'dataset':22s} {'n':>4s} {'moving':>6s} {'refused':>7s} {'resolution m/s2':>19s} "
          f"{'min SD m/s2':>11s} {'min SD/res':>10s} {'min ptp/res':>11s}  smallest (recording, axis)")
    rows: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for dataset, name, raw in recordings(args.data, args.files, sim_sessions=args.sim_sessions,
                                         sim_minutes=args.sim_minutes):
        rows.setdefault(dataset, []).append((name, axis_stats(raw)))
    for dataset, items in rows.items():
        moving = [(n, s) for n, s in items if s["moving"]]
        refused = [n for n, s in items if s["refused"] == "acc_dead"]
        lsbs = [float(s["lsb"]) for _n, s in items]  # type: ignore[arg-type]
        ratio, sd_min, ptp_ratio, where = np.inf, np.inf, np.inf, "-"
        for n, s in moving:
            sd, ptp = np.asarray(s["sd"]), np.asarray(s["ptp"])
            lsb = float(s["lsb"])  # type: ignore[arg-type]
            r = sd / lsb if lsb > 0 else np.full(sd.shape, np.inf)
            k = int(np.argmin(r))
            sd_min = min(sd_min, float(sd.min()))
            ptp_ratio = min(ptp_ratio, float((ptp / lsb).min()) if lsb > 0 else np.inf)
            if r[k] < ratio:
                ratio, where = float(r[k]), f"{n}, {s['axes'][k]}"  # type: ignore[index]
        print(f"{dataset:22s} {len(items):4d} {len(moving):6d} {len(refused):7d} "
              f"{min(lsbs):9.3g}-{max(lsbs):<9.3g} {sd_min:11.3f} {ratio:10.1f} {ptp_ratio:11.1f}  {where}")
        for n in refused:
            print(f"  refused: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
