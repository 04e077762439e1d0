"""imuback, mobgap and scikit-digital-health side by side on the same real walking recordings, same scorer.

    python benchmarks/compare_mobgap.py --mobgap-python /path/to/venv/bin/python [--data ../shared/data]

The peers (``pip install imuback[bench]`` in their own venv: their pins differ from ours) run in a
child interpreter on every trial of ``benchmarks/real_walking.py``, each as its authors document it:

- mobgap's official ``MobilisedPipelineHealthy`` (gait sequences, ICs, left/right);
- scikit-digital-health's ``PredictGaitLumbarLgbm`` (its gait classifier on 3 s windows) then
  ``GaitLumbar`` (ICs by its default AP-CWT method; no left/right): ``skdh``;
- ``skdh ref-bouts``: ``GaitLumbar`` given the first reference's walking bouts (± 1 s) and
  ``min_bout_time=1`` s (its default, 8 s, drops the short lab walks) — an oracle that isolates
  skdh's step detector from its gait detection; no other detector is given the bouts.

Every detector's walking ICs are then scored

1. by our one-to-one scorer (``real_walking.score``) at ±100 ms, per dataset and reference;
2. by mobgap's own ``categorize_ic_list`` at ±0.5 s (mobgap's tolerance for its IC evaluation), run in
   the child on every detector's ICs, per dataset and reference;
3. by our scorer at ±100 ms again, broken down by condition (turn, bout start/end, steady straight,
   gait speed band, static tilt: ``real_walking``'s conditions, the same as ``validate.py``'s), every
   detector side by side: :func:`by_condition`.
A peer that is not installed in the child is reported as missing, not scored.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw

PEERS = ("mobgap", "skdh", "skdh ref-bouts")
"""Peer detectors, as named in the tables: mobgap; skdh with its gait classifier; skdh given the walking."""
ICD = ("IcdShinImproved", "IcdIonescu", "IcdHKLeeImproved")
"""mobgap's IC detectors run alone (``peers="all+icd"``), each named ``<class> ref-bouts`` in the results."""

_CHILD = r"""
import importlib.util, json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[1])
import real_walking as rw
from mobgap.initial_contacts.evaluation import categorize_ic_list
ICD = sys.argv[6].split(",")
data, ours_path, out_path = sys.argv[2], sys.argv[3], sys.argv[4]
ours = json.loads(open(ours_path).read())
has_skdh = importlib.util.find_spec("skdh") is not None and sys.argv[5] in ("all", "all+icd")
has_icd = sys.argv[5] == "all+icd"
BODY_TO_MM = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=float)  # mobgap: x up, y right, z forward

def mobgap_frame(raw):
    r = BODY_TO_MM @ raw.mounting
    acc, gyr = raw.acc_mps2.astype(float) @ r.T, raw.gyr_dps.astype(float) @ r.T
    return pd.DataFrame({"acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                         "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]})

def run_mobgap(raw):
    from mobgap.data import GaitDatasetFromData
    from mobgap.pipeline import MobilisedPipelineHealthy
    df = mobgap_frame(raw)
    ds = GaitDatasetFromData({"t": {"LowerBack": df}}, raw.sample_rate_hz,
                             {"t": {"height_m": 1.7, "sensor_height_m": 0.95, "cohort": "HA"}},
                             {"t": {"measurement_condition": "laboratory"}})
    ic = MobilisedPipelineHealthy().safe_run(ds[0]).raw_ic_list_
    if not len(ic):
        return [], []
    ic = ic.sort_values("ic")
    lr = ic["lr_label"].astype(str).str[:1].str.upper().tolist()
    return (ic["ic"].to_numpy(dtype=float) / raw.sample_rate_hz).tolist(), lr

def run_skdh(raw, ref):
    from skdh.context import PredictGaitLumbarLgbm
    from skdh.gait import GaitLumbar
    fs = raw.sample_rate_hz
    acc = raw.acc_mps2.astype(float) @ raw.mounting.T / 9.80665  # body frame, g (skdh estimates its axes)
    gyr = np.deg2rad(raw.gyr_dps.astype(float) @ raw.mounting.T)
    t0 = 1.7e9  # skdh wants unix seconds
    t = t0 + np.arange(len(acc)) / fs
    gl = GaitLumbar()
    if ref is not None:
        n = len(acc)
        b = np.clip(np.round((ref.bouts_s + [-1.0, 1.0]) * fs), 0, n - 1).astype(int)
        kw = {"gait_bouts": b}
        gl = GaitLumbar(min_bout_time=1.0)
    else:
        gp = PredictGaitLumbarLgbm().predict(time=t, accel=acc, fs=fs)
        bouts = np.c_[gp["Gait Bout Start Index"], gp["Gait Bout Stop Index"]].astype(int)
        if not len(bouts):
            return [], []
        kw = {"gait_bouts": bouts}
    res = gl.predict(time=t, accel=acc, gyro=gyr, fs=fs, height=1.7, **kw)
    ic = np.unique(np.asarray(res.get("IC Timestamp", []), dtype=float)) - t0
    return ic.tolist(), [""] * ic.size

def run_icd(raw, ref, name):
    # one of mobgap's IC detectors alone, on each reference walking bout +- 1 s (body frame, m/s^2)
    from mobgap import initial_contacts as icd
    from mobgap.utils.conversions import to_body_frame
    fs = raw.sample_rate_hz
    df = to_body_frame(mobgap_frame(raw))
    b = np.clip(np.round((ref.bouts_s + [-1.0, 1.0]) * fs), 0, len(df)).astype(int)
    ic = [getattr(icd, name)().detect(df.iloc[s:e], sampling_rate_hz=fs).ic_list_["ic"].to_numpy(dtype=float) + s
          for s, e in b]
    ic = np.unique(np.concatenate(ic)) / fs if ic else np.zeros(0)
    return ic.tolist(), [""] * ic.size

out = {}
for tr in rw.load(__import__("pathlib").Path(data)):
    if tr.name not in ours:
        continue
    raw = tr.raw
    dets = {"imuback": (np.asarray(ours[tr.name]), None), "mobgap": run_mobgap(raw)}
    if has_skdh:
        dets["skdh"] = run_skdh(raw, None)
        dets["skdh ref-bouts"] = run_skdh(raw, next(iter(tr.refs.values())))
    if has_icd:
        for name in ICD:
            dets[f"{name} ref-bouts"] = run_icd(raw, next(iter(tr.refs.values())), name)
    own = {}
    fs = raw.sample_rate_hz
    for ref_name, ref in tr.refs.items():
        ref_df = pd.DataFrame({"ic": np.round(ref.ic_s * fs).astype(int)}).rename_axis("step_id")
        for who, (times, _) in dets.items():
            det_df = pd.DataFrame({"ic": np.round(np.asarray(times) * fs).astype(int)}).rename_axis("step_id")
            cat = categorize_ic_list(ic_list_detected=det_df, ic_list_reference=ref_df,
                                     tolerance_samples=round(0.5 * fs))
            own[f"{who}/{ref_name}"] = cat["match_type"].value_counts().to_dict()
    out[tr.name] = {"peers": {k: {"ic_s": list(v[0]), "foot": v[1]} for k, v in dets.items() if k != "imuback"},
                    "own": own}
open(out_path, "w").write(json.dumps(out))
"""


def _cells(f: dict[str, float]) -> str:
    return (f"{f['recall']:.3f} / {f['precision']:.3f} / {f['ic_sd_ms']:4.1f} / {f['foot_acc']:.3f} / "
            f"{f['cadence_err_pct_median']:.2f}")


BY_CONDITION_TOL_S = 0.1
"""Matching tolerance of the by-condition table (the headline ±100 ms)."""


def _short(f: rw.Figures) -> str:
    return f"{f.recall:5.3f} / {f.precision:5.3f} / {f.ic_sd_ms:4.1f}"


def by_condition(trials: list[rw.Trial], dets: dict[str, list[rw.Detected]], *,
                 tol_s: float = BY_CONDITION_TOL_S) -> list[str]:
    """Every detector side by side by condition, per dataset and reference: the table's lines.

    ``dets[who][i]`` is detector ``who``'s steps in ``trials[i]``. Each row is one condition value of
    ``real_walking.CONDITIONS`` (set by the reference alone, so the same reference ICs for every
    detector: ``n ref``); each cell recall / precision / IC SD (ms) from ``real_walking.score`` and
    ``real_walking.figures`` at ``tol_s``, the scorer of every other table.
    """
    whos = list(dets)
    out: list[str] = []
    for ds in sorted({t.dataset for t in trials}):
        sel = [i for i, t in enumerate(trials) if t.dataset == ds]
        tr = [trials[i] for i in sel]
        for ref_name in sorted({k for t in tr for k in t.refs}):
            rows = {w: rw.score(tr, [dets[w][i] for i in sel], ref_name=ref_name, tol_s=tol_s) for w in whos}
            first = rows[whos[0]]
            table = [[f"{ds}/{ref_name}", "n ref", *whos]]
            for cond in ("all", *rw.CONDITIONS):
                for v in sorted(set(first.r_cond[cond].tolist())):
                    table.append([f"  {'all' if cond == 'all' else f'{cond}: {v}'}",
                                  str(rw.figures(first, cond, v).n_ref),
                                  *(_short(rw.figures(rows[w], cond, v)) for w in whos)])
            wid = [max(len(r[c]) for r in table) for c in range(len(table[0]))]
            for r in table:
                cells = [r[0].ljust(wid[0]), r[1].rjust(wid[1])]
                cells += [x.ljust(n) for x, n in zip(r[2:], wid[2:], strict=True)]
                out.append("   ".join(cells).rstrip())
    return out


class PeerError(Exception):
    """The child interpreter running the peers failed; ``tail`` is its last stderr line (or the OS error)."""

    def __init__(self, python: str, tail: str) -> None:
        super().__init__(f"the peers failed in {python}: {tail}")
        self.tail = tail


def run_peers(trials: list[rw.Trial], ours: list[rw.Detected], *, data: Path, python: str,
              peers: str = "all") -> dict:
    """The peers' ICs and mobgap's own scoring of every detector, per trial name, from a child ``python``.

    Only ``trials`` are run (by name); ``peers="mobgap"`` runs mobgap alone (skdh skipped);
    ``peers="all+icd"`` adds each of mobgap's IC detectors (:data:`ICD`) run alone on the first
    reference's walking bouts ± 1 s, as ``<class> ref-bouts`` (an oracle on the bouts, like skdh ref-bouts).
    Raises :class:`PeerError` when the child fails or cannot start.
    """
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, out_path = Path(tmp) / "ours.json", Path(tmp) / "peers.json"
        ours_path.write_text(json.dumps({t.name: d.ic_s.tolist() for t, d in zip(trials, ours, strict=True)}))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            subprocess.run([python, "-c", _CHILD, str(Path(__file__).resolve().parent), str(data),
                            str(ours_path), str(out_path), peers, ",".join(ICD)],
                           check=True, capture_output=True, text=True, env=env)
        except (subprocess.CalledProcessError, OSError) as exc:
            err = getattr(exc, "stderr", None)
            raise PeerError(python, err.strip().splitlines()[-1] if err else str(exc)) from exc
        got: dict = json.loads(out_path.read_text())
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--mobgap-python", default=sys.executable,
                    help="interpreter that has the peers installed (mobgap; scikit-digital-health if present)")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    ours = [rw.imuback_detect(t) for t in trials]
    try:
        got = run_peers(trials, ours, data=args.data, python=args.mobgap_python)
    except PeerError as exc:
        print(exc)
        return 1
    peers = [p for p in PEERS if p in got[trials[0].name]["peers"]]
    missing = [p for p in PEERS if p not in peers]
    if missing:
        print(f"not installed in {args.mobgap_python}, not scored: {', '.join(missing)}")
    dets = {"imuback": ours}
    for p in peers:
        dets[p] = [rw.Detected(ic_s=np.asarray(got[t.name]["peers"][p]["ic_s"], dtype=np.float64),
                               to_s=np.full(len(got[t.name]["peers"][p]["ic_s"]), np.nan),
                               foot=np.asarray(got[t.name]["peers"][p]["foot"] or np.zeros(0, str), dtype=str))
                   for t in trials]
    figs = {who: rw.report(trials, d, title=who) for who, d in dets.items()}
    print("\n## side by side, our scorer at ±100 ms (recall / precision / IC SD ms / foot / bout cadence |err| %)")
    for key in figs["imuback"]:
        print(f"{key:28s} " + "   ".join(f"{who} {_cells(f[key])}" for who, f in figs.items()))
    print("\n## mobgap's own scoring: categorize_ic_list, tolerance ±0.5 s (recall / precision, all detections)")
    for ds in sorted({t.dataset for t in trials}):
        for ref_name in sorted({k for t in trials if t.dataset == ds for k in t.refs}):
            cells = []
            for who in figs:
                c = {"tp": 0, "fp": 0, "fn": 0}
                for t in trials:
                    for k, v in got[t.name]["own"].get(f"{who}/{ref_name}", {}).items():
                        if t.dataset == ds:
                            c[k] = c.get(k, 0) + v
                rec = c["tp"] / max(c["tp"] + c["fn"], 1)
                prec = c["tp"] / max(c["tp"] + c["fp"], 1)
                cells.append(f"{who} {rec:.3f} / {prec:.3f} (tp {c['tp']}, fp {c['fp']}, fn {c['fn']})")
            print(f"{ds + '/' + ref_name:28s} " + "   ".join(cells))
    print(f"\n## by condition, our scorer at ±{1e3 * BY_CONDITION_TOL_S:.0f} ms (recall / precision / IC SD ms; "
          "n ref: reference ICs in the condition)")
    print("\n".join(by_condition(trials, dets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
