"""imuback and mobgap side by side on the same real walking recordings, with the same scorer.

    python benchmarks/compare_mobgap.py --mobgap-python /work/venv-mobgap/bin/python [--data ../shared/data]

mobgap (``pip install imuback[bench]``, in its own venv: its pins differ from ours) runs in a child
interpreter: the official ``MobilisedPipelineHealthy`` (gait sequences, ICs, left/right) on every
trial of ``benchmarks/real_walking.py``. Both detectors' walking ICs are then scored

1. by our one-to-one scorer (``real_walking.score``) at ±50/100/250 ms, per dataset and reference;
2. by mobgap's own ``categorize_ic_list`` at ±0.5 s (mobgap's tolerance for its IC evaluation), run in
   the child on both detectors' ICs, per dataset and reference.
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

_CHILD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[1])
import real_walking as rw
from mobgap.data import GaitDatasetFromData
from mobgap.pipeline import MobilisedPipelineHealthy
from mobgap.initial_contacts.evaluation import categorize_ic_list
data, ours_path, out_path = sys.argv[2], sys.argv[3], sys.argv[4]
ours = json.loads(open(ours_path).read())
body_to_mm = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=float)  # mobgap: x up, y right, z forward
out = {}
for tr in rw.load(__import__("pathlib").Path(data)):
    raw = tr.raw
    r = body_to_mm @ raw.mounting
    acc, gyr = raw.acc_mps2.astype(float) @ r.T, raw.gyr_dps.astype(float) @ r.T
    df = pd.DataFrame({"acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                       "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]})
    ds = GaitDatasetFromData({"t": {"LowerBack": df}}, raw.sample_rate_hz,
                             {"t": {"height_m": 1.7, "sensor_height_m": 0.95, "cohort": "HA"}},
                             {"t": {"measurement_condition": "laboratory"}})
    p = MobilisedPipelineHealthy().safe_run(ds[0])
    ic = p.raw_ic_list_
    t = np.sort(ic["ic"].to_numpy(dtype=float)) / raw.sample_rate_hz if len(ic) else np.zeros(0)
    lr = ic.sort_values("ic")["lr_label"].astype(str).str[:1].str.upper().tolist() if len(ic) else []
    own = {}
    for ref_name, ref in tr.refs.items():
        fs = raw.sample_rate_hz
        ref_df = pd.DataFrame({"ic": np.round(ref.ic_s * fs).astype(int)}).rename_axis("step_id")
        for who, times in (("mobgap", t), ("imuback", np.asarray(ours[tr.name]))):
            det_df = pd.DataFrame({"ic": np.round(np.asarray(times) * fs).astype(int)}).rename_axis("step_id")
            cat = categorize_ic_list(ic_list_detected=det_df, ic_list_reference=ref_df,
                                     tolerance_samples=round(0.5 * fs))
            own[f"{who}/{ref_name}"] = cat["match_type"].value_counts().to_dict()
    out[tr.name] = {"ic_s": t.tolist(), "foot": lr, "own": own}
open(out_path, "w").write(json.dumps(out))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--mobgap-python", default=sys.executable, help="interpreter that has mobgap installed")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    ours = [rw.imuback_detect(t) for t in trials]
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, out_path = Path(tmp) / "ours.json", Path(tmp) / "mobgap.json"
        ours_path.write_text(json.dumps({t.name: d.ic_s.tolist() for t, d in zip(trials, ours, strict=True)}))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            subprocess.run([args.mobgap_python, "-c", _CHILD, str(Path(__file__).resolve().parent), str(args.data),
                            str(ours_path), str(out_path)], check=True, capture_output=True, text=True, env=env)
        except subprocess.CalledProcessError as exc:
            tail = exc.stderr.strip().splitlines()[-1] if exc.stderr else str(exc)
            print(f"mobgap failed in {args.mobgap_python}: {tail}")
            return 1
        mg = json.loads(out_path.read_text())
    theirs = [rw.Detected(ic_s=np.asarray(mg[t.name]["ic_s"], dtype=np.float64),
                          to_s=np.full(len(mg[t.name]["ic_s"]), np.nan),
                          foot=np.asarray(mg[t.name]["foot"] or np.zeros(0, str), dtype=str)) for t in trials]
    a = rw.report(trials, ours, title="imuback")
    b = rw.report(trials, theirs, title="mobgap MobilisedPipelineHealthy")
    print("\n## side by side, our scorer at ±100 ms (recall / precision / IC SD ms / foot / bout cadence |err| %)")
    for key in a:
        fa, fb = a[key], b[key]
        print(f"{key:28s} imuback {fa['recall']:.3f} / {fa['precision']:.3f} / {fa['ic_sd_ms']:4.1f} / "
              f"{fa['foot_acc']:.3f} / {fa['cadence_err_pct_median']:.2f}   "
              f"mobgap {fb['recall']:.3f} / {fb['precision']:.3f} / {fb['ic_sd_ms']:4.1f} / "
              f"{fb['foot_acc']:.3f} / {fb['cadence_err_pct_median']:.2f}")
    print("\n## mobgap's own scoring: categorize_ic_list, tolerance ±0.5 s (recall / precision, all detections)")
    for ds in sorted({t.dataset for t in trials}):
        for ref_name in sorted({k for t in trials if t.dataset == ds for k in t.refs}):
            cells = []
            for who in ("imuback", "mobgap"):
                c = {"tp": 0, "fp": 0, "fn": 0}
                for t in trials:
                    for k, v in mg[t.name]["own"].get(f"{who}/{ref_name}", {}).items():
                        if t.dataset == ds:
                            c[k] = c.get(k, 0) + v
                rec = c["tp"] / max(c["tp"] + c["fn"], 1)
                prec = c["tp"] / max(c["tp"] + c["fp"], 1)
                cells.append(f"{who} {rec:.3f} / {prec:.3f} (tp {c['tp']}, fp {c['fp']}, fn {c['fn']})")
            print(f"{ds + '/' + ref_name:28s} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
