"""How much the pelvic drop's gyro-bias removal moves the drop on real gyros that have (almost) no bias.

    python benchmarks/pelvic_drop_bias.py [--data ../shared/data]

Real walking (voisard_l5_walk: Xsens, essentially no bias; mobgap_lab), through the pipeline's own
ICs and foot labels; walking has no toe-off here, so the stance is a proxy: IC to IC + 0.62 of the
stride. The drop is read with the bias removal (``metrics._roll_bias_deg_per_sample``) and without
it; on a bias-free gyro their difference is noise the removal adds. Printed per dataset: the
|change| median / p90 / p99 / max, the share above 0.5 deg, and the same for chain-end steps and
steps in turning strides (|yaw rate| >= 40 deg/s). A validation script: it prints the peak memory
and no samples/s (it times nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal import metrics
from imuback.signal.session import analyse_session

STANCE_SHARE = 0.62
"""The proxy stance: this share of the stride after IC (a walking stance)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args(argv)
    trials = [t for t in rw.load(args.data) if t.raw.gyr_dps is not None]
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    ds, change, end, yaw = [], [], [], []
    for t in trials:
        a = analyse_session(t.raw)
        st, body = a.steps, a.body
        if st.n < 3:
            continue
        fs = body.fs_hz
        roll = np.concatenate([[0.0], np.cumsum(body.gyr_dps[:, 0]) / fs])
        yaw_int = np.concatenate([[0.0], np.cumsum(body.gyr_dps[:, 2]) / fs])
        ic = st.ic_pos
        same = np.r_[st.chain[2:] == st.chain[:-2], [False, False]]
        stride = np.r_[ic[2:] - ic[:-2], [np.nan, np.nan]]
        to = np.minimum(np.where(same, ic + STANCE_SHARE * stride, np.nan), body.n - 1.0)
        proxy = dataclasses.replace(st, to_pos=to)
        s = np.ceil(ic).astype(np.int64)
        e = np.where(np.isfinite(to), np.floor(np.nan_to_num(to)).astype(np.int64) + 1, s)
        with_bias_removed = metrics._pelvic_drop(roll, proxy, s, e, fs_hz=fs)
        with mock.patch.object(metrics, "_roll_bias_deg_per_sample", lambda r, steps: np.zeros(steps.n)):
            without = metrics._pelvic_drop(roll, proxy, s, e, fs_hz=fs)
        first = np.r_[True, st.chain[1:] != st.chain[:-1]]
        last = np.r_[st.chain[1:] != st.chain[:-1], True]
        k = np.minimum(np.arange(st.n) + 2, st.n - 1)
        grid = np.arange(body.n + 1)
        yaw_rate = np.where(same, (np.interp(ic[k], grid, yaw_int) - np.interp(ic, grid, yaw_int))
                            / np.where(same, stride, 1.0) * fs, np.nan)
        ok = np.isfinite(with_bias_removed) & np.isfinite(without)
        ds += [t.dataset] * int(ok.sum())
        change.append(np.abs(with_bias_removed - without)[ok])
        end.append((first | last)[ok])
        yaw.append(np.abs(yaw_rate)[ok])
    d, is_end, y, names = np.concatenate(change), np.concatenate(end), np.concatenate(yaw), np.asarray(ds)
    print(f"{len(trials)} walking trials with a gyro; |drop with - without the bias removal|, deg")
    print(f"{'':<34}{'steps':>6}{'median':>8}{'p90':>7}{'p99':>7}{'max':>7}{'> 0.5':>7}")
    for name in ("voisard_l5_walk", "mobgap_lab"):
        m = names == name
        for label, sel in ((name, m), ("  chain ends", m & is_end),
                           ("  turning strides (>= 40 deg/s)", m & ~is_end & (y >= 40))):
            if sel.any():
                x = d[sel]
                print(f"{label:<34}{x.size:>6}{np.median(x):>8.3f}{np.percentile(x, 90):>7.3f}"
                      f"{np.percentile(x, 99):>7.3f}{x.max():>7.2f}{np.mean(x > 0.5):>7.3f}", flush=True)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
