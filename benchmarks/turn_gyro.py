"""Is there a gyroscope mark of turning steps, pivot steps included? Contact-locked averages per channel,
and the gyroscope's yaw-rate extremes as steps in the detections' gaps.

    python benchmarks/turn_gyro.py [--data ../shared/data] [--plots /tmp/turn_gyro]

**Table 1, contact-locked.** For every real walking reference (voisard_l5_walk foot IMU, mobgap_lab
INDIP and stereo) the body-frame signals (x forward, y left, z up: the pipeline's own frame,
``analyse_session``) are sampled at ``IC + lag`` (lags -0.4..0.4 s) around each reference IC, each
window's mean removed, in groups:

  straight   a reference IC outside a reference turn
  turn hit   inside a turn, matched by imuback within 100 ms (one-to-one)
  turn miss  inside a turn, missed, with a vertical maximum >= walk_weak_prominence_g of the smoothed
             vertical signal from 0.1 s before to 0.25 s after it
  pivot      inside a turn, missed, no such maximum (``walk_miss_anatomy.py``'s "no candidate")
  inside     every IC inside a turn (found or not) of the foot on the inside of the turn (the left
             foot in a left turn: the low-passed yaw rate positive at the IC)
  outside    likewise, the foot on the outside
  between    the midpoint between two consecutive reference ICs of one bout, both in a turn (a control)

Channels (smoothed with a 30 ms Gaussian): ``yaw_hp`` the yaw rate minus its 0.8 Hz low-pass
(the turn's slow part) and ``yaw_acc`` its derivative, both signed by the turn's direction (the sign
of the low-passed yaw rate: + = into the turn); ``roll``/``roll_acc`` the roll rate and its
derivative signed by the reference foot (+1 right, -1 left; a detector would not know it),
``|roll_acc|`` unsigned; ``pitch``/``pitch_acc``; ``vert`` the vertical specific force (g) for
comparison. Printed per group: the signal-to-noise ratio |mean| / SD across steps at its best lag
(-0.2..0.2 s), that lag and the mean there, and the AUROC of the channel's value at that lag (signed
by the mean) at the group's points against the ``between`` points at the same lag (0.5 = none).

**Table 2, yaw-rate extremes as steps in gaps.** Where imuback's walking detections leave a gap of
1.5-6 typical steps (the trial's median interval), every maximum (``max``) or minimum (``min``) of
``yaw_hp`` with a prominence >= ``prom`` deg/s, moved by ``lag`` s, at least 0.6 step from both
detections of the gap and where the low-passed |yaw rate| >= ``turn`` deg/s, is a candidate step;
it is true when within 100 ms of a reference IC the detections missed (one-to-one, ±100 ms). Each
rule's true / false counts; the rule with the most true minus false is chosen on one data set and
reported on the other; ``one per gap``: only each gap's most prominent candidate. A rule worth
adding needs clearly more true than false on both.
``--plots DIR`` writes table 1's averages, one figure per reference (needs matplotlib).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.dsp import lowpass
from imuback.signal.frames import G_MPS2
from imuback.signal.params import PipelineParams
from imuback.signal.session import analyse_session
from matching import match
from real_running import auroc
from walk_misses import REFS, _in_bouts

F64 = npt.NDArray[np.float64]
LAGS_S = np.round(np.arange(-0.4, 0.4001, 0.01), 3)
BEST = (LAGS_S >= -0.2) & (LAGS_S <= 0.2)
CHANNELS = ("yaw_hp", "yaw_acc", "roll", "roll_acc", "|roll_acc|", "pitch", "pitch_acc", "vert")
GROUPS = ("straight", "turn hit", "turn miss", "pivot", "inside", "outside", "between")
RULES = list(itertools.product(("min", "max"), (2.0, 5.0, 10.0), (-0.12, -0.08, -0.04, 0.0, 0.04, 0.08, 0.12),
                               (0.0, 30.0, 60.0), (False, True)))
"""(extreme, prominence deg/s, lag s, turn deg/s, one per gap) of table 2."""
SMOOTH_S = 0.03
GAP_STEPS = (1.5, 6.0)
GAP_MARGIN_STEPS = 0.6


def signals(trial: rw.Trial, p: PipelineParams) -> tuple[F64, F64, F64] | None:
    """(t_s from the first sample, channels (len(CHANNELS), n), 0.8 Hz low-passed yaw rate) or None without a gyro."""
    b = analyse_session(trial.raw, params=p).body
    if b.gyr_dps is None:
        return None
    fs = b.fs_hz
    sm = SMOOTH_S * fs
    gyr = gaussian_filter1d(b.gyr_dps, sm, axis=0)
    yaw_lp = lowpass(b.gyr_dps[:, 2], 0.8, fs, np.array([0, b.n]))
    yaw_hp = gyr[:, 2] - yaw_lp
    roll_acc = np.gradient(gyr[:, 0], 1 / fs)
    chans = np.stack([yaw_hp, np.gradient(yaw_hp, 1 / fs), gyr[:, 0], roll_acc, np.abs(roll_acc), gyr[:, 1],
                      np.gradient(gyr[:, 1], 1 / fs), gaussian_filter1d(b.acc_mps2[:, 2] / G_MPS2, sm)])
    return np.arange(b.n) / fs, chans, yaw_lp


def windows(t: F64, chans: F64, yaw_lp: F64, det: rw.Detected, ref: rw.Reference,
            p: PipelineParams) -> dict[str, F64]:
    """group -> (n_channels, n_points, n_lags) windows of one trial and reference."""
    fs = 1.0 / (t[1] - t[0])
    e = p.events
    # as walk_miss_anatomy.py: vert is smoothed by SMOOTH_S already, Gaussians' variances add
    d1 = gaussian_filter1d(chans[-1] - 1.0, np.sqrt(max(e.walk_detect_sigma_s**2 - SMOOTH_S**2, 0.0)) * fs)
    pk_s = t[find_peaks(d1, prominence=e.walk_weak_prominence_g)[0]]
    ic = det.ic_s[_in_bouts(det.ic_s, ref)]
    _, ri = match(ic, ref.ic_s, 0.1)
    found = np.zeros(ref.ic_s.size, dtype=bool)
    found[ri] = True
    has_pk = np.any((pk_s[None, :] >= ref.ic_s[:, None] - 0.1) & (pk_s[None, :] <= ref.ic_s[:, None] + 0.25), axis=1)
    same = (ref.bout_id[1:] == ref.bout_id[:-1]) & ref.turn[1:] & ref.turn[:-1]
    left_turn = np.interp(ref.ic_s, t, yaw_lp) > 0  # z up: a positive yaw rate turns left
    lr = np.isin(ref.foot, ("L", "R"))
    sel = {"straight": ~ref.turn, "turn hit": ref.turn & found, "turn miss": ref.turn & ~found & has_pk,
           "pivot": ref.turn & ~found & ~has_pk, "inside": ref.turn & lr & ((ref.foot == "L") == left_turn),
           "outside": ref.turn & lr & ((ref.foot == "R") == left_turn)}
    pts = {g: (ref.ic_s[m], ref.foot[m]) for g, m in sel.items()}
    pts["between"] = (0.5 * (ref.ic_s[1:] + ref.ic_s[:-1])[same], ref.foot[1:][same])
    turn_sign = np.sign(yaw_lp)
    out: dict[str, F64] = {}
    for g, (x, foot) in pts.items():
        ok = (x + LAGS_S[0] >= t[0]) & (x + LAGS_S[-1] <= t[-1])
        x, foot = x[ok], foot[ok]
        w = np.stack([np.interp(x[:, None] + LAGS_S[None, :], t, c) for c in chans])
        w -= w.mean(axis=2, keepdims=True)
        w[0:2] *= np.interp(x, t, turn_sign)[None, :, None]
        w[2:4] *= np.where(foot == "R", 1.0, -1.0)[None, :, None]
        out[g] = w
    return out


def gap_counts(t: F64, yaw_hp: F64, yaw_lp: F64, det: rw.Detected, ref: rw.Reference) -> F64:
    """(len(RULES), 2) true / false candidate steps of table 2 in one trial."""
    out = np.zeros((len(RULES), 2))
    ic = np.sort(det.ic_s)
    if ic.size < 4:
        return out
    step = float(np.median(np.diff(ic)))
    _, ri = match(ic[_in_bouts(ic, ref)], ref.ic_s, 0.1)
    lost = np.delete(ref.ic_s, ri)
    d = np.diff(ic)
    g = np.flatnonzero((d > GAP_STEPS[0] * step) & (d < GAP_STEPS[1] * step))
    if g.size == 0:
        return out
    into = yaw_hp * np.sign(yaw_lp)
    for k, (ext, prom, lag, turn, one) in enumerate(RULES):
        pk, props = find_peaks(into if ext == "max" else -into, prominence=prom)
        x, pr = t[pk] + lag, props["prominences"]
        within = ((x[:, None] >= ic[g][None, :] + GAP_MARGIN_STEPS * step)
                  & (x[:, None] <= ic[g + 1][None, :] - GAP_MARGIN_STEPS * step))
        keep = within.any(axis=1) & (np.abs(np.interp(x, t, yaw_lp)) >= turn)
        gap_of = np.argmax(within, axis=1)
        if one:  # the most prominent candidate of each gap only
            order = np.lexsort((-pr, gap_of))
            order = order[keep[order]]
            first = np.ones(order.size, dtype=bool)
            first[1:] = gap_of[order][1:] != gap_of[order][:-1]
            keep = np.zeros_like(keep)
            keep[order[first]] = True
        x = x[keep]
        hit, _ = match(x, lost, 0.1)
        out[k] += (hit.size, x.size - hit.size)
    return out


def _rule(k: int) -> str:
    ext, prom, lag, turn, one = RULES[k]
    return f"{ext} prom {prom:g} lag {lag:+.2f} turn {turn:g}{' one per gap' if one else ''}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--plots", type=Path, default=None, metavar="DIR",
                    help="write one figure per reference into DIR (needs matplotlib)")
    args = ap.parse_args(argv)
    if args.plots is not None and importlib.util.find_spec("matplotlib") is None:
        ap.error("--plots needs matplotlib (pip install matplotlib); it is not installed")
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    p = PipelineParams()
    dets = [rw.imuback_detect(t, p) for t in trials]
    sigs = [signals(t, p) for t in trials]
    gaps: dict[str, F64] = {}
    for ds, ref_name in REFS:
        acc: dict[str, list[F64]] = {g: [] for g in GROUPS}
        gaps[ref_name] = np.zeros((len(RULES), 2))
        for t, d, s in zip(trials, dets, sigs, strict=True):
            if t.dataset != ds or ref_name not in t.refs or s is None or t.refs[ref_name].ic_s.size < 3:
                continue
            for g, w in windows(*s, d, t.refs[ref_name], p).items():
                acc[g].append(w)
            gaps[ref_name] += gap_counts(s[0], s[1][0], s[2], d, t.refs[ref_name])
        w_all = {g: np.concatenate(v, axis=1) for g, v in acc.items() if v}
        print(f"\n## {ds} / {ref_name}: contact-locked body-frame signals, window mean removed; "
              "SNR = |mean| / SD across steps at its best lag (-0.2..0.2 s), mean there; AUROC vs 'between'")
        print(f"{'channel':12s}" + "".join(f"{g + ' (n ' + str(w.shape[1]) + ')':>34s}" for g, w in w_all.items()))
        for c, name in enumerate(CHANNELS):
            cells = []
            for w in w_all.values():
                m, sd = w[c].mean(axis=0), w[c].std(axis=0)
                snr = np.where(BEST, np.abs(m) / np.maximum(sd, 1e-12), -1.0)
                k = int(np.argmax(snr))
                neg = w_all["between"][c][:, k]
                score = np.sign(m[k]) * np.concatenate([w[c][:, k], neg])
                auc = auroc(score, np.arange(score.size) < w.shape[1])
                cells.append(f"{snr[k]:5.2f} @{1e3 * LAGS_S[k]:+4.0f} ms {m[k]:+8.2f} AUC {auc:4.2f}")
            print(f"{name:12s}" + "".join(f"{s:>34s}" for s in cells))
        if args.plots is not None:
            _plot(args.plots, f"{ds} / {ref_name}", w_all)
    print(f"\n## yaw-rate extremes as steps in the detections' gaps ({GAP_STEPS[0]:g}-{GAP_STEPS[1]:g} steps, "
          f">= {GAP_MARGIN_STEPS:g} step from each side): true / false candidates")
    names = [r for _, r in REFS]
    for src in ("foot IMU", "INDIP"):
        best = int(np.argmax(gaps[src][:, 0] - gaps[src][:, 1]))
        print(f"  chosen on {src}: {_rule(best)}; "
              + ", ".join(f"{r} {int(gaps[r][best, 0])} / {int(gaps[r][best, 1])}" for r in names))
    return 0


def _plot(out: Path, title: str, w_all: dict[str, F64]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(len(CHANNELS), 1, figsize=(8, 2.0 * len(CHANNELS)), sharex=True)
    for c, name in enumerate(CHANNELS):
        for g, w in w_all.items():
            axes[c].plot(LAGS_S, w[c].mean(axis=0), label=f"{g} ({w.shape[1]})")
        axes[c].axvline(0.0, color="k", lw=0.5)
        axes[c].set_ylabel(name)
    axes[0].legend(fontsize=7)
    axes[-1].set_xlabel("s after the reference IC")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out / f"{title.replace(' / ', '_').replace(' ', '_')}.png", dpi=70)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
