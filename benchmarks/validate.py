"""Accuracy of the stride pipeline: real recordings (../shared/data) and simulated sessions.

    python benchmarks/validate.py [--data ../shared/data] [--sim-sessions 6] [--sim-minutes 4]

Prints one table per data set. Real-data sections skip with a message where the folder is absent.
The figures are kept in docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.pipeline import process_raw
from imuback.signal.frames import G_MPS2
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import match

F64 = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
T0_NS = 1_600_000_000 * 10**9


def _ts(col: object) -> F64:
    import pyarrow as pa

    assert isinstance(col, pa.ChunkedArray | pa.Array)
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64) / 1e9


# --- Alcantara 2022: treadmill running, sacral accelerometer (vertical + AP, g), force treadmill ---

@dataclass(frozen=True)
class AlcantaraResult:
    """Event and vGRF errors over all reference steps fully inside the trials."""

    ic_err_s: F64
    to_err_s: F64
    grf_err_bw: F64
    n_ref: int
    n_missed: int
    n_extra: int


def _crossings(x: F64, level: float) -> tuple[F64, F64]:
    b = x < level
    up = np.flatnonzero(b[:-1] & ~b[1:])
    dn = np.flatnonzero(~b[:-1] & b[1:])
    return up + (level - x[up]) / (x[up + 1] - x[up]), dn + (x[dn] - level) / (x[dn] - x[dn + 1])


def alcantara(root: Path, *, remove_ap_offset: bool = True) -> AlcantaraResult:
    """Run the pipeline on every trial; reference IC/TO where vGRF crosses 50 N (0.066 BW).

    The AP channel's constant offset is not a consistent tilt: with it, the mean specific force
    of a trial is ~1.3 g where any tilt would give 1 g. By default it is removed (per trial
    mean) so that gravity alignment does not mix AP propulsion into the vertical channel.
    """
    acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")
    grf = np.loadtxt(root / "GRF.csv", delimiter=",")
    fs = 500.0
    n = grf.shape[1]
    ic_e, to_e, grf_e = [], [], []
    n_ref = n_missed = n_extra = 0
    for i in range(acc.shape[0]):
        vert, ap = acc[i, :n], acc[i, n:]
        if remove_ap_offset:
            ap = ap - ap.mean()
        a = np.column_stack([ap, np.zeros(n), vert]) * G_MPS2  # ML channel absent
        raw = RawSession(session_id=f"alc{i}", runner_id="alcantara", sensor="alcantara", sample_rate_hz=fs,
                         time_ns=(T0_NS + np.round(np.arange(n) / fs * 1e9)).astype(np.int64),
                         acc_mps2=a.astype(np.float32), gyr_dps=None)
        steps = process_raw(raw).steps
        ic = _ts(steps.column("ic_time")) - T0_NS / 1e9
        to = _ts(steps.column("to_time")) - T0_NS / 1e9
        gp = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=np.float64)
        up, dn = _crossings(grf[i], 0.066)
        # reference contacts fully inside the trial (IC then TO), with 0.1 s margin at the edges
        j = np.searchsorted(dn, up)
        ok = j < dn.size
        r_ic, r_to = up[ok] / fs, dn[j[ok]] / fs
        keep = (r_ic > 0.1) & (r_to < n / fs - 0.1)
        r_ic, r_to = r_ic[keep], r_to[keep]
        r_pk = np.array([grf[i, int(a_ * fs):int(b_ * fs) + 1].max() for a_, b_ in zip(r_ic, r_to, strict=True)])
        ei, ri = match(ic, r_ic, 0.06)
        n_ref += r_ic.size
        n_missed += r_ic.size - ri.size
        ea, _ = match(ic, up / fs, 0.06)  # against every reference contact, edges included
        n_extra += ic.size - ea.size
        ic_e.append(ic[ei] - r_ic[ri])
        to_e.append(to[ei] - r_to[ri])
        grf_e.append(gp[ei] - r_pk[ri])
    return AlcantaraResult(ic_err_s=np.concatenate(ic_e), to_err_s=np.concatenate(to_e),
                           grf_err_bw=np.concatenate(grf_e), n_ref=n_ref, n_missed=n_missed, n_extra=n_extra)


# --- Mobilise-D lab walking: lower-back 6-axis IMU, INDIP reference ---

@dataclass(frozen=True)
class MobgapResult:
    """Per-trial step detection, left/right and cadence against the INDIP reference."""

    n_ref: int
    n_found: int
    n_lr_correct: int
    n_lr: int
    n_extra: int
    cadence_err_pct: F64
    ic_err_s: F64
    """Matched steps: estimated minus reference IC."""
    fc_err_s: F64
    """Matched steps with both final contacts: estimated TO minus reference final contact."""


MOBGAP_R = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=np.float64)  # McRoberts MM+ -> body


def _mobgap_trials(root: Path) -> Iterator[tuple[str, dict[str, object]]]:
    import scipy.io as sio

    for mat in sorted(root.glob("*/*/data.mat")):
        d = sio.loadmat(mat, simplify_cells=True)["data"]["TimeMeasure1"]
        for test, trials in d.items():
            for trial, x in trials.items():
                yield f"{mat.parent.parent.name}/{mat.parent.name}/{test}/{trial}", x


def mobgap_raw(name: str, x: dict) -> RawSession:
    """The lower-back recording of one mobgap trial as a raw session (acc g -> m/s²)."""
    lb = x["SU"]["LowerBack"]
    fs = float(lb["Fs"]["Acc"])
    acc = np.asarray(lb["Acc"], dtype=np.float64) * G_MPS2
    n = acc.shape[0]
    return RawSession(session_id=name.replace("/", "_"), runner_id="mobgap", sensor="McRoberts MM+",
                      sample_rate_hz=fs, time_ns=(T0_NS + np.round(np.arange(n) / fs * 1e9)).astype(np.int64),
                      acc_mps2=acc.astype(np.float32), gyr_dps=np.asarray(lb["Gyr"], dtype=np.float32),
                      mounting=MOBGAP_R)


def mobgap(root: Path) -> MobgapResult:
    """Steps within 100 ms of an INDIP initial contact, foot labels, and cadence per walking bout."""
    n_ref = n_found = n_lr_ok = n_lr = n_extra = 0
    cad_err: list[float] = []
    ic_err: list[F64] = []
    fc_err: list[F64] = []
    for name, x in _mobgap_trials(root):
        raw = mobgap_raw(name, x)
        steps = process_raw(raw).steps.to_pandas()
        ic = (steps["ic_time"].astype("int64").to_numpy() - T0_NS) / 1e9
        to = np.where(steps["to_time"].isna(), np.nan, (steps["to_time"].astype("int64").to_numpy() - T0_NS) / 1e9)
        foot = steps["foot"].to_numpy()
        wbs = x["Standards"]["INDIP"]["MicroWB"]  # type: ignore[index]
        wbs = wbs if isinstance(wbs, list) else [wbs]
        all_ref = []
        for wb in wbs:
            r_ic = np.atleast_1d(np.asarray(wb["InitialContact_Event"], dtype=np.float64))
            r_lr = np.atleast_1d(np.asarray(wb["InitialContact_LeftRight"]))
            good = np.isfinite(r_ic)
            r_ic, r_lr = r_ic[good], r_lr[good]
            all_ref.append(r_ic)
            ei, ri = match(ic, r_ic, 0.1)
            ic_err.append(ic[ei] - r_ic[ri])
            # the k-th final contact is the k-th IC's foot leaving the ground (the last may be absent)
            r_fc = np.atleast_1d(np.asarray(wb["FinalContact_Event"], dtype=np.float64))
            k = np.flatnonzero(good)[ri]
            has = k < r_fc.size
            fc_err.append(to[ei[has]] - r_fc[k[has]])
            n_ref += r_ic.size
            n_found += ri.size
            lab = np.array(["L" if str(s).lower().startswith("l") else "R" for s in r_lr])
            n_lr += ri.size
            n_lr_ok += int(np.sum(foot[ei] == lab[ri]))
            inside = (ic >= wb["Start"]) & (ic <= wb["End"])
            if inside.sum() >= 4 and np.isfinite(wb["Cadence"]):
                d = np.diff(ic[inside])
                est = 60.0 / np.median(d)
                cad_err.append(100.0 * (est - float(wb["Cadence"])) / float(wb["Cadence"]))
        refs = np.sort(np.concatenate(all_ref)) if all_ref else np.zeros(0)
        ei_all, _ = match(ic, refs, 0.1)
        n_extra += ic.size - ei_all.size
    return MobgapResult(n_ref=n_ref, n_found=n_found, n_lr_correct=n_lr_ok, n_lr=n_lr, n_extra=n_extra,
                        cadence_err_pct=np.asarray(cad_err), ic_err_s=np.concatenate(ic_err),
                        fc_err_s=np.concatenate(fc_err))


def _ms(x: F64) -> str:
    return (f"{1e3 * np.mean(x):+6.1f} ms bias, SD {1e3 * np.std(x):5.1f} ms, "
            f"median |err| {1e3 * np.median(np.abs(x)):5.1f} ms")


def report_real(data: Path) -> dict[str, object]:
    """Print the real-recording tables; return the figures."""
    out: dict[str, object] = {}
    alc = data / "real" / "alcantara_treadmill"
    if alc.exists():
        r = alcantara(alc)
        rmse = float(np.sqrt(np.mean(r.grf_err_bw ** 2)))
        print("\n## alcantara_treadmill (real running, force treadmill, 500 Hz, 2-axis sacral accelerometer)")
        print(f"reference steps {r.n_ref}, missed {r.n_missed}, extra {r.n_extra}")
        print(f"IC  {_ms(r.ic_err_s)}   (target: bias within ±10 ms, SD ≤ 15 ms)")
        print(f"TO  {_ms(r.to_err_s)}   (target: bias within ±10 ms, SD ≤ 20 ms)")
        ct = r.to_err_s - r.ic_err_s
        print(f"contact time {_ms(ct)}")
        print(f"peak vGRF RMSE {rmse:.3f} BW, bias {np.mean(r.grf_err_bw):+.3f} BW   (target RMSE ≤ 0.20 BW)")
        out["alcantara"] = {"ic_bias_ms": 1e3 * float(np.mean(r.ic_err_s)), "ic_sd_ms": 1e3 * float(np.std(r.ic_err_s)),
                            "to_bias_ms": 1e3 * float(np.mean(r.to_err_s)), "to_sd_ms": 1e3 * float(np.std(r.to_err_s)),
                            "grf_rmse_bw": rmse, "missed": r.n_missed, "extra": r.n_extra, "n_ref": r.n_ref}
    else:
        print(f"\n## alcantara_treadmill: skipped ({alc} not found)")
    mob = data / "real" / "mobgap_lab"
    if mob.exists():
        m = mobgap(mob)
        recall = 100.0 * m.n_found / max(m.n_ref, 1)
        lr = 100.0 * m.n_lr_correct / max(m.n_lr, 1)
        cad = float(np.median(np.abs(m.cadence_err_pct))) if m.cadence_err_pct.size else float("nan")
        print("\n## mobgap_lab (real walking, lower-back 6-axis IMU, INDIP reference, 100 Hz)")
        print(f"step recall within 100 ms: {recall:.1f} % of {m.n_ref}   (target ≥ 95 %); extra steps {m.n_extra}")
        print(f"left/right correct: {lr:.1f} % of {m.n_lr}   (target ≥ 95 %)")
        worst = np.max(np.abs(m.cadence_err_pct)) if m.cadence_err_pct.size else float("nan")
        print(f"cadence |error| median {cad:.2f} % over {m.cadence_err_pct.size} walking bouts, "
              f"max {worst:.2f} %   (target ≤ 3 %)")
        ic_q = 1e3 * np.nanpercentile(m.ic_err_s, [25, 50, 75]) if m.ic_err_s.size else np.full(3, np.nan)
        fc_q = 1e3 * np.nanpercentile(m.fc_err_s, [25, 50, 75]) if np.isfinite(m.fc_err_s).any() else np.full(3, np.nan)
        print(f"matched steps: IC error median {ic_q[1]:+.0f} ms (IQR {ic_q[0]:+.0f} to {ic_q[2]:+.0f}); "
              f"final contact (TO) error median {fc_q[1]:+.0f} ms (IQR {fc_q[0]:+.0f} to {fc_q[2]:+.0f}) "
              f"over {int(np.isfinite(m.fc_err_s).sum())} steps   (no target)")
        out["mobgap"] = {"recall_pct": recall, "lr_pct": lr, "cadence_err_pct_median": cad, "n_ref": m.n_ref,
                         "extra": m.n_extra}
    else:
        print(f"\n## mobgap_lab: skipped ({mob} not found)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--sim-sessions", type=int, default=6)
    ap.add_argument("--sim-minutes", type=float, default=4.0)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    figures = report_real(args.data)
    try:
        from sim_accuracy import report_failure_modes, report_simulated  # benchmarks/sim_accuracy.py
    except ImportError:
        report_simulated = None
    if report_simulated is not None:
        figures["simulated"] = report_simulated(sessions=args.sim_sessions, minutes=args.sim_minutes)
        figures["simulated_failure_modes"] = report_failure_modes(sessions=args.sim_sessions,
                                                                  minutes=args.sim_minutes)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
