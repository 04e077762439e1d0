"""Why walking feet are left unlabelled: every matched step, by the rule that left it null.

    python benchmarks/foot_anatomy.py [--data ../shared/data] [--no-gyro] [--sim] [--off NAME=VALUE ...]

Runs the pipeline on every real walking trial (``real_walking.py``; with ``--sim`` also the
simulated realistic walking sessions of ``sim_accuracy.py``) and keeps the inputs of its
``assign_feet`` call (the chains and the two foot cues, read before the IC refinement). Each
walking step matched to a reference IC (±100 ms, at the unrefined IC, on the sensor's clock) is put in a row by
:func:`imuback.signal.events.foot_reasons`: why it is labelled or not, the length of its chain
(before any split at a parity flip), whether it is its chain's first, last or a middle step, and
whether its chain's parity names the reference foot. The trials whose reference feet are swapped
(``real_walking.REFERENCE_FEET_SWAPPED``) are left out. ``--off NAME=VALUE`` runs with EventParams
fields changed (``--off foot_yaw_lead_s=0 foot_contradiction_run=1``: the rules of pipeline 0.7.0).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import imuback.signal.session as session_mod
import real_walking as rw
from imuback.signal.activity import WALK
from imuback.signal.dsp import interp_at
from imuback.signal.events import FOOT_REASONS, RIGHT, UNKNOWN, foot_reasons
from imuback.signal.params import PipelineParams
from matching import match


def _capture(run: Any) -> dict[str, Any]:
    """Call ``run()`` with ``assign_feet`` and ``_foot_cue`` wrapped; return their inputs (and the body frame)."""
    got: dict[str, Any] = {}
    af, fc = session_mod.assign_feet, session_mod._foot_cue

    def foot_cue(body: Any, *a: Any, **k: Any) -> Any:
        # sample positions are grid indices: across a dropout they do not count its time
        got.update(fs=body.fs_hz, t_s=np.asarray(body.t_s), t0_ns=body.t0_ns, body=body)
        return fc(body, *a, **k)

    def assign(steps: Any, cue: Any, **kw: Any) -> Any:
        got.update(steps=steps, cue=np.asarray(cue), kw=kw)
        return af(steps, cue, **kw)

    session_mod.assign_feet, session_mod._foot_cue = assign, foot_cue
    try:
        run()
    finally:
        session_mod.assign_feet, session_mod._foot_cue = af, fc
    return got


def _band(n: int) -> str:
    return "1" if n == 1 else "2-3" if n <= 3 else "4-7" if n <= 7 else "8+"


def _rows(got: dict[str, Any], ref_ic_s: np.ndarray, ref_foot: np.ndarray, counts: Counter[tuple[str, ...]],
          t0_ns: int, name: str = "") -> None:
    st = got.get("steps")
    if st is None or st.n == 0:
        return
    parity, why = foot_reasons(st, got["cue"], **got["kw"])
    walk = np.flatnonzero(st.activity == WALK)
    ic_s = interp_at(got["t_s"], st.ic_pos[walk]) + (got["t0_ns"] - t0_ns) / 1e9  # from the first sample
    ei, ri = match(ic_s, ref_ic_s, 0.1)
    starts = np.flatnonzero(np.concatenate([[True], st.chain[1:] != st.chain[:-1]]))
    size = np.diff(np.append(starts, st.n))
    length = np.repeat(size, size)
    pos = np.arange(st.n) - np.repeat(starts, size)
    for i, f in zip(walk[ei], ref_foot[ri], strict=True):
        where = "first" if pos[i] == 0 else "last" if pos[i] == length[i] - 1 else "middle"
        named = "none" if parity[i] == UNKNOWN else "right" if ("R" if parity[i] == RIGHT else "L") == f else "WRONG"
        counts[(FOOT_REASONS[why[i]], _band(int(length[i])), where, named)] += 1
        if why[i] == 0 and named == "WRONG":
            counts[("wrong in", name)] += 1


def _print(title: str, counts: Counter[tuple[str, ...]]) -> None:
    wrong = {k[1]: v for k, v in counts.items() if k[0] == "wrong in"}
    counts = Counter({k: v for k, v in counts.items() if k[0] != "wrong in"})
    n = sum(counts.values())
    null = sum(v for k, v in counts.items() if k[0] != FOOT_REASONS[0])
    print(f"\n## {title}: {n} matched steps, {null} unlabelled ({100 * null / max(n, 1):.1f} %)")
    print(f"{'reason':<18}{'chain':>6}{'step':>8}{'parity':>8}{'steps':>7}")
    for (why, band, where, named), v in sorted(counts.items(), key=lambda kv: (kv[0][0] == FOOT_REASONS[0], -kv[1])):
        print(f"{why:<18}{band:>6}{where:>8}{named:>8}{v:>7}")
    if wrong:
        print("labelled wrong in: " + ", ".join(f"{k} ({v})" for k, v in sorted(wrong.items())))


def params_with(off: list[str]) -> PipelineParams:
    """Pipeline parameters with the EventParams fields ``NAME=VALUE`` of ``off`` changed (printed)."""
    events = rw.event_params(off)
    if off:
        print(f"with { {k: getattr(events, k) for k in (a.split('=', 1)[0] for a in off)} }")
    return PipelineParams(events=events)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--no-gyro", action="store_true", help="drop every trial's gyroscope")
    ap.add_argument("--sim", action="store_true", help="also the simulated realistic walking sessions")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    params = params_with(args.off)
    tables: dict[str, Counter[tuple[str, ...]]] = {}
    for t in rw.load(args.data, no_gyro=args.no_gyro):
        if t.name in rw.REFERENCE_FEET_SWAPPED:
            continue
        got = _capture(lambda t=t: rw.imuback_detect(t, params))
        for ref_name, ref in t.refs.items():
            _rows(got, ref.ic_s, ref.foot, tables.setdefault(f"{t.dataset} / {ref_name}", Counter()),
                  int(t.raw.time_ns[0]), t.name)
    if args.sim:
        import sim_accuracy as sa
        from imuback.pipeline import process_raw

        for i in range(6):  # the realistic walking sessions of sim_accuracy.report_failure_modes
            sim = sa.simulate_session(sa.walking_scenario(i), seed=300 + i, session_id=f"acc{i}", runner_id="sim",
                                      start_time=sa.T0_NS)
            raw = dataclasses.replace(sim.raw, gyr_dps=None) if args.no_gyro else sim.raw
            got = _capture(lambda raw=raw: process_raw(raw, params=params))
            ts = sim.truth_steps
            keep = ((np.asarray(ts.column("activity").to_pylist()) == "walk")
                    & ~np.asarray(ts.column("lost_in_gap").to_pylist(), dtype=bool))
            ic = (np.asarray(ts.column("ic_time").cast("int64").to_numpy(), dtype=np.int64) - int(raw.time_ns[0])) / 1e9
            foot = np.asarray([str(f)[:1].upper() if f else "" for f in ts.column("foot").to_pylist()])
            table = tables.setdefault("simulated realistic walking", Counter())
            _rows(got, ic[keep], foot[keep], table, int(raw.time_ns[0]), f"session {i}")
    for title, counts in tables.items():
        _print(title + (" (no gyroscope)" if args.no_gyro else ""), counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
