"""Does a small learned accept/reject of the walking step candidates generalise? (issue #14)

    python benchmarks/walk_learned.py [--data ../shared/data]

Per real walking trial (``benchmarks/real_walking.py``) a table of **every candidate** the walking
detector considers, taken or not:

- every vertical maximum of the walking bouts (each grown into neighbouring running bouts as the
  detector does) at McCamley's scale (``walk_detect_sigma_s``) with prominence >=
  ``walk_weak_prominence_g`` and >= ``min_step_s`` apart — the pool :func:`walking_contacts` and the
  gap bridging choose from. Its IC is placed as the pipeline places one: the steepest loading rise
  on the finer scale, then the forward-acceleration peak before braking (:func:`forward_peak_ic`;
  where there is none, the vertical IC moved by the session's median offset between the two cues),
  then ``walk_ic_delay_s`` later (no cue averaging, no rhythm re-placement);
- a candidate whose IC lies within 100 ms of a pipeline walking step (one-to-one) is *taken* and
  has the pipeline's IC; a pipeline step that matches no candidate is a row of its own (taken, its
  prominence and rise read at the first maximum at or after its IC — a step's vertical maximum
  follows its IC — or at the last maximum where none follows).

Features (vectorised per trial; the rhythm from the pipeline's steps other than the row itself):
``taken``; ``prom`` log(prominence / the session's median over taken steps); ``rise`` log(loading
rise / median over taken); ``fall`` braking fall (:func:`braking_fall`) / the session's median over
taken steps; ``rhythm`` distance (in typical steps) from the nearest place the neighbouring taken
steps' rhythm predicts (gap between them split into round(gap / step) steps, at least 2);
``near`` distance to the nearer neighbouring taken step / step; ``turn`` |trunk yaw rate| (body z)
averaged over ±0.5 s (/100 dps).

Label: a reference IC within 100 ms, one-to-one (``benchmarks/matching.py``), among the rows inside
a reference walking bout ± 1 s (the house scorer's scope; rows outside are not scored).

Prints (1) the ceiling: the house scorer's figures if exactly the labelled rows were accepted, and
the pipeline's figures from the same rows (accept = taken: a check of the table); (2) a logistic
regression (numpy/scipy, L2 1e-3 on the standardised features) over a few nested feature sets:
set and threshold chosen by leave-one-subject-out inside voisard_l5_walk (pooled held-out rows),
the model fitted on all voisard reported on mobgap_lab (INDIP, stereo), and the reverse (fitted and
chosen on mobgap_lab INDIP, reported on voisard).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.optimize import minimize
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.activity import RUN, WALK
from imuback.signal.dsp import argmin_between
from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams, PipelineParams
from imuback.signal.session import SessionAnalysis, analyse_session
from imuback.signal.walking import _max_slope, _steepest_rise
from imuback.signal.walking_ic import braking_fall, forward_peak_ic
from matching import match
from real_running import auroc

F64 = npt.NDArray[np.float64]
FEATURES = ("taken", "prom", "rise", "fall", "rhythm", "near", "turn")
SETS = {
    "taken": ("taken",),
    "taken+prom+rhythm+near": ("taken", "prom", "rhythm", "near"),
    "taken+prom+rhythm+near+fall+rise": ("taken", "prom", "rhythm", "near", "fall", "rise"),
    "all": FEATURES,
    "all but taken": FEATURES[1:],
    "split": FEATURES[1:],
    "drop only": FEATURES[1:],
}
"""Feature sets; ``split`` fits one model on the taken rows (which to drop) and one on the others
(which to add), each on the features but ``taken``; ``drop only`` the first of them alone (a
candidate not taken stays out)."""
SPLIT = ("split", "drop only")
THRESHOLDS = tuple(np.round(np.arange(0.2, 0.81, 0.05), 2))
TOL_S = 0.1
L2 = 1e-3


@dataclasses.dataclass(frozen=True)
class Table:
    """One trial's candidate rows: time (s from the first sample), features (R, F), label per reference."""

    t_s: F64
    x: F64
    label: dict[str, npt.NDArray[np.bool_]]
    scored: dict[str, npt.NDArray[np.bool_]]


def _maxima(a: SessionAnalysis, p: EventParams) -> tuple[F64, F64, F64, F64]:
    """Every walking-bout vertical maximum: peak position, vertical IC position (samples), prominence, rise."""
    body, bouts = a.body, a.bouts
    fs = body.fs_hz
    v = body.acc_mps2[:, 2] / G_MPS2 - 1.0
    ext = bouts.extended(WALK, RUN, round(p.bout_edge_s * fs), body.seg_bounds)
    back, ahead = int(0.2 * fs), int(0.05 * fs)
    out: list[tuple[F64, F64, F64, F64]] = []
    for s0, e0 in zip(ext.start_idx[ext.label == WALK], ext.end_idx[ext.label == WALK], strict=True):  # bouts: few
        if e0 - s0 < 8 * p.walk_detect_sigma_s * fs:
            continue
        d1 = gaussian_filter1d(v[s0:e0], p.walk_detect_sigma_s * fs)
        f1 = gaussian_filter1d(v[s0:e0], p.walk_locate_sigma_s * fs)
        pk, props = find_peaks(d1, distance=max(1, int(p.min_step_s * fs)), prominence=p.walk_weak_prominence_g)
        if pk.size == 0:
            continue
        rise = _max_slope(f1, np.maximum(pk - back, 0), np.minimum(pk + ahead, f1.size)) * fs
        lo = np.maximum(pk - back, 0)
        lo[1:] = np.maximum(lo[1:], pk[:-1] + 1)
        vi = argmin_between(-f1, lo, np.minimum(pk + ahead, f1.size))
        vi = _steepest_rise(f1, vi, round(p.walk_rise_max_s * fs))
        out.append(((pk + s0).astype(float), (vi + s0).astype(float), props["prominences"], rise))
    if not out:
        z = np.zeros(0)
        return z, z, z, z
    return tuple(np.concatenate(c) for c in zip(*out, strict=True))  # type: ignore[return-value]


def trial_table(trial: rw.Trial, p: EventParams = EventParams()) -> Table:
    """The candidate table of one trial (see the module docstring)."""
    a = analyse_session(trial.raw, params=PipelineParams(events=p))
    body = a.body
    fs, bounds = body.fs_hz, body.seg_bounds
    t0 = int(trial.raw.time_ns[0])
    ap = body.acc_mps2[:, 0]

    def sec(pos: F64) -> F64:
        return (a.times_ns(pos).astype(np.float64) - t0) / 1e9

    pipe = a.steps.ic_pos[a.steps.activity == WALK]
    pk, vic, prom, rise = _maxima(a, p)
    fwd = forward_peak_ic(ap, vic, fs, bounds, p)
    moved = fwd != vic
    off = float(np.median(vic[moved] - fwd[moved])) if moved.any() else 0.0
    off = off if abs(off) <= 0.1 * fs else 0.0
    cic = np.where(moved, fwd, vic - off) + p.walk_ic_delay_s * fs
    order = np.argsort(cic)
    pk, cic, prom, rise = pk[order], cic[order], prom[order], rise[order]
    # taken: one-to-one within 100 ms of a pipeline walking step; the pipeline's IC then
    ci, pi = match(cic / fs, pipe / fs, TOL_S)
    taken = np.zeros(cic.size, bool)
    taken[ci] = True
    cic[ci] = pipe[pi]
    lone = np.setdiff1d(np.arange(pipe.size), pi)
    # a pipeline step without a candidate: its own row, read at the first maximum at or after its IC
    near_pk = np.clip(np.searchsorted(pk, pipe[lone]), 0, max(pk.size - 1, 0))
    pos = np.concatenate([cic, pipe[lone]])
    tk = np.concatenate([taken, np.ones(lone.size, bool)])
    pr = np.concatenate([prom, prom[near_pk] if pk.size else np.zeros(lone.size)])
    rs = np.concatenate([rise, rise[near_pk] if pk.size else np.zeros(lone.size)])
    o = np.argsort(pos, kind="stable")
    pos, tk, pr, rs = pos[o], tk[o], pr[o], rs[o]
    # session levels over the taken rows
    ref_t = tk if tk.any() else np.ones(tk.size, bool)
    prom_rel = np.log(np.maximum(pr, 1e-6) / np.median(pr[ref_t])) if pos.size else pr
    rise_rel = np.log(np.maximum(rs, 1e-6) / max(float(np.median(rs[ref_t])), 1e-6)) if pos.size else rs
    fall = braking_fall(ap, pos, fs, bounds, p)
    fall_rel = np.clip(fall / max(float(np.median(fall[ref_t])), 1e-6), 0.0, 3.0) if pos.size else fall
    # the rhythm of the taken rows other than this one
    steps = pos[tk]
    d = np.diff(steps)
    tau = float(np.median(d[d < 2.0 * fs])) if np.any(d < 2.0 * fs) else fs * 0.55
    k_t = np.cumsum(tk) - tk  # number of taken rows before each row
    prev = np.where(k_t > 0, steps[np.maximum(k_t - 1, 0)] if steps.size else 0.0, np.nan)
    k_n = k_t + tk  # index (in steps) of the next taken row after this one
    nxt = np.where(k_n < steps.size, steps[np.minimum(k_n, max(steps.size - 1, 0))] if steps.size else 0.0, np.nan)
    gap = (nxt - pos) + (pos - prev)
    m = np.maximum(np.round(gap / tau), 2.0)
    space = gap / m
    f = (pos - prev) / space
    rhythm = np.abs(f - np.clip(np.round(f), 1, m - 1)) * space / tau
    near = np.fmin(pos - prev, nxt - pos) / tau
    # one-sided (bout edge): the distance beyond the last step against one step
    one = np.isnan(gap)
    side = np.where(np.isnan(prev), nxt - pos, pos - prev)
    rhythm = np.where(one, np.abs(side / tau - np.maximum(np.round(side / tau), 1.0)), rhythm)
    rhythm = np.nan_to_num(np.clip(rhythm, 0.0, 1.0), nan=1.0)
    near = np.nan_to_num(np.clip(near, 0.0, 3.0), nan=3.0)
    turn = np.zeros(pos.size)
    if body.gyr_dps is not None and pos.size:
        yaw = uniform_filter1d(np.abs(body.gyr_dps[:, 2]), max(1, round(fs)), mode="nearest")
        turn = yaw[np.clip(np.round(pos).astype(np.int64), 0, yaw.size - 1)] / 100.0
    x = np.stack([tk.astype(float), prom_rel, rise_rel, fall_rel, rhythm, near, turn], axis=1)
    t = sec(pos)
    label, scored = {}, {}
    for name, ref in trial.refs.items():
        inb = np.any((t[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                     & (t[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
        ei, _ = match(t[inb], ref.ic_s, TOL_S)
        lab = np.zeros(t.size, bool)
        lab[np.flatnonzero(inb)[ei]] = True
        label[name], scored[name] = lab, inb
    return Table(t_s=t, x=x, label=label, scored=scored)


def fit(x: F64, y: npt.NDArray[np.bool_]) -> tuple[F64, F64, F64]:
    """Logistic regression on standardised features: (mean, scale, weights with the intercept last)."""
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = np.column_stack([(x - mu) / sd, np.ones(x.shape[0])])
    yy = y.astype(float)

    def loss(w: F64) -> tuple[float, F64]:
        s = z @ w
        nll = np.sum(np.logaddexp(0.0, s) - yy * s) / yy.size + 0.5 * L2 * np.sum(w[:-1] ** 2)
        g = z.T @ (1.0 / (1.0 + np.exp(-s)) - yy) / yy.size
        g[:-1] += L2 * w[:-1]
        return float(nll), g

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return mu, sd, np.asarray(w, dtype=np.float64)


def prob(model: tuple[F64, F64, F64], x: F64) -> F64:
    """P(a reference IC) of each row."""
    mu, sd, w = model
    return 1.0 / (1.0 + np.exp(-(np.column_stack([(x - mu) / sd, np.ones(x.shape[0])]) @ w)))


def detected(tables: list[Table], accept: list[npt.NDArray[np.bool_]]) -> list[rw.Detected]:
    """The accepted rows of each trial as a detector's walking steps (no TO, no feet)."""
    return [rw.Detected(ic_s=tb.t_s[a], to_s=np.full(int(a.sum()), np.nan), foot=np.full(int(a.sum()), ""))
            for tb, a in zip(tables, accept, strict=True)]


def changes(tables: list[Table], accept: list[npt.NDArray[np.bool_]], ref: str) -> str:
    """How many scored rows the model decides otherwise than the pipeline, and how many of those rightly."""
    x = np.concatenate([tb.x[tb.scored[ref], 0] > 0 for tb in tables])
    a = np.concatenate([ac[tb.scored[ref]] for tb, ac in zip(tables, accept, strict=True)])
    y = np.concatenate([tb.label[ref][tb.scored[ref]] for tb in tables])
    drop, add = x & ~a, ~x & a
    return (f"dropped {int(drop.sum())} ({int((drop & ~y).sum())} unlabelled, {int((drop & y).sum())} labelled), "
            f"added {int(add.sum())} ({int((add & y).sum())} labelled)")


def figures(trials: list[rw.Trial], tables: list[Table], accept: list[npt.NDArray[np.bool_]],
            ref: str) -> rw.Figures:
    """The house scorer's figures (±100 ms) of the accepted rows against ``ref``."""
    return rw.figures(rw.score(trials, detected(tables, accept), ref_name=ref, tol_s=TOL_S))


def _xy(tables: list[Table], cols: tuple[str, ...], ref: str) -> tuple[F64, npt.NDArray[np.bool_]]:
    j = [FEATURES.index(c) for c in cols]
    x = np.concatenate([tb.x[tb.scored[ref]][:, j] for tb in tables])
    y = np.concatenate([tb.label[ref][tb.scored[ref]] for tb in tables])
    return x, y


Model = tuple[tuple[F64, F64, F64], ...]


def _fit_set(tables: list[Table], name: str, ref: str) -> Model:
    """One model (or, for ``split``, one for the taken rows and one for the others)."""
    x, y = _xy(tables, FEATURES, ref)
    j = [FEATURES.index(c) for c in SETS[name]]
    if name not in SPLIT:
        return (fit(x[:, j], y),)
    tk = x[:, 0] > 0
    return fit(x[tk][:, j], y[tk]), fit(x[~tk][:, j], y[~tk])


def _prob_set(model: Model, name: str, x: F64) -> F64:
    j = [FEATURES.index(c) for c in SETS[name]]
    if name not in SPLIT:
        return prob(model[0], x[:, j])
    other = prob(model[1], x[:, j]) if name == "split" else np.zeros(x.shape[0])
    return np.where(x[:, 0] > 0, prob(model[0], x[:, j]), other)


def _choose(trials: list[rw.Trial], tables: list[Table], ref: str) -> tuple[str, float, Model]:
    """The feature set and threshold with the best recall + precision on these trials (fitted on them)."""
    best: tuple[float, str, float, Model] | None = None
    for name in SETS:
        model = _fit_set(tables, name, ref)
        pr = [_prob_set(model, name, tb.x) for tb in tables]
        for th in THRESHOLDS:
            f = figures(trials, tables, [q >= th for q in pr], ref)
            s = f.recall + f.precision
            if best is None or s > best[0] + 1e-12:
                best = (s, name, float(th), model)
    assert best is not None
    return best[1], best[2], best[3]


def _apply(tables: list[Table], name: str, th: float, model: Model) -> list[npt.NDArray[np.bool_]]:
    return [_prob_set(model, name, tb.x) >= th for tb in tables]


def _describe(name: str, th: float, model: Model) -> str:
    parts = []
    for tag, (mu, sd, w) in zip(("taken rows", "other rows") if name in SPLIT else ("",), model, strict=True):
        terms = zip(SETS[name], w[:-1], mu, sd, strict=True)
        parts.append((f"{tag}: " if tag else "") + ", ".join(
            f"{c} {wi:+.2f} (mean {m_:.3f}, SD {s_:.3f})" for c, wi, m_, s_ in terms) + f", intercept {w[-1]:+.2f}")
    return f"{name} @ {th:.2f}; weights on standardised features: " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    tables = [trial_table(t) for t in trials]
    groups = {"voisard_l5_walk": ("foot IMU",), "mobgap_lab": ("INDIP", "stereo")}
    print("walking step candidates (every vertical maximum >= walk_weak_prominence_g + the pipeline's steps); "
          f"±{1e3 * TOL_S:.0f} ms, house scorer")
    print(f"{'data / reference':<26}{'rows':>6}{'taken':>7}{'label':>7}   {'pipeline (accept = taken)':<34}"
          f"{'ceiling (accept = label)':<30}ref ICs no candidate holds")
    for ds, refs in groups.items():
        sel = [i for i, t in enumerate(trials) if t.dataset == ds]
        tr, tb = [trials[i] for i in sel], [tables[i] for i in sel]
        for ref in refs:
            n_rows = sum(int(t.scored[ref].sum()) for t in tb)
            n_tk = sum(int((t.x[:, 0] > 0)[t.scored[ref]].sum()) for t in tb)
            n_lab = sum(int(t.label[ref].sum()) for t in tb)
            fp = figures(tr, tb, [t.x[:, 0] > 0 for t in tb], ref)
            fc = figures(tr, tb, [t.label[ref] for t in tb], ref)
            print(f"{ds + ' / ' + ref:<26}{n_rows:>6}{n_tk:>7}{n_lab:>7}   "
                  f"{fp.recall:.3f} / {fp.precision:.3f} {fp.ic_bias_ms:+.1f} ± {fp.ic_sd_ms:.1f} ms      "
                  f"{fc.recall:.3f} / {fc.precision:.3f} {fc.ic_bias_ms:+.1f} ± {fc.ic_sd_ms:.1f} ms   "
                  f"{1 - fc.recall:.3f} of {fc.n_ref} (pipeline misses {1 - fp.recall:.3f}: "
                  f"{(1 - fc.recall) / max(1 - fp.recall, 1e-9):.0%} of them no candidate)")
    print("\nhow well each feature tells labelled rows from the others (AUROC, 0.5 = not at all; "
          "< 0.5: lower values are the labelled ones)")
    print(f"{'data / reference':<26}{'rows':<14}{'n':>6}{'label':>7}" + "".join(f"{c:>8}" for c in FEATURES[1:]))
    for ds, refs in groups.items():
        tb = [tables[i] for i, t in enumerate(trials) if t.dataset == ds]
        for ref in refs:
            x, y = _xy(tb, FEATURES, ref)
            for rows_name, r in (("taken", x[:, 0] > 0), ("not taken", x[:, 0] == 0)):
                print(f"{ds + ' / ' + ref:<26}{rows_name:<14}{int(r.sum()):>6}{int(y[r].sum()):>7}"
                      + "".join(f"{auroc(x[r, k], y[r]):>8.2f}" for k in range(1, len(FEATURES))))
    # 2. the learned rescoring
    vi = [i for i, t in enumerate(trials) if t.dataset == "voisard_l5_walk"]
    mi = [i for i, t in enumerate(trials) if t.dataset == "mobgap_lab"]
    vt, vb = [trials[i] for i in vi], [tables[i] for i in vi]
    mt, mb = [trials[i] for i in mi], [tables[i] for i in mi]
    print("\nlogistic regression, accept where P >= threshold; feature sets: "
          + "; ".join(f"{k} = {', '.join(v)}" for k, v in SETS.items()))
    # leave one voisard subject out
    subjects = sorted({t.subject for t in vt})
    held: list[npt.NDArray[np.bool_]] = [np.zeros(0, bool)] * len(vt)
    picks = []
    for s in subjects:
        tr_i = [i for i, t in enumerate(vt) if t.subject != s]
        te_i = [i for i, t in enumerate(vt) if t.subject == s]
        name, th, model = _choose([vt[i] for i in tr_i], [vb[i] for i in tr_i], "foot IMU")
        picks.append(f"{s}: {name} @ {th:.2f}")
        for i, a in zip(te_i, _apply([vb[i] for i in te_i], name, th, model), strict=True):
            held[i] = a
    f_base = figures(vt, vb, [t.x[:, 0] > 0 for t in vb], "foot IMU")
    f_loso = figures(vt, vb, held, "foot IMU")
    print("leave one voisard subject out (chosen per fold on the other 8): " + "; ".join(picks))
    name, th, model = _choose(vt, vb, "foot IMU")
    f_in = figures(vt, vb, _apply(vb, name, th, model), "foot IMU")
    print(f"fitted on all voisard: {_describe(name, th, model)}")
    ma = _apply(mb, name, th, model)
    print(f"\n{'':<52}{'recall':>8}{'prec':>7}{'IC bias±SD ms':>16}")

    def row(label: str, f: rw.Figures, note: str = "") -> None:
        print(f"{label:<52}{f.recall:>8.3f}{f.precision:>7.3f}{f.ic_bias_ms:>+8.1f} ±{f.ic_sd_ms:>5.1f}   {note}")

    row("voisard, pipeline 0.12.0", f_base)
    row("voisard, chosen on all voisard (in sample)", f_in, changes(vb, _apply(vb, name, th, model), "foot IMU"))
    row("voisard, leave one subject out (held out)", f_loso, changes(vb, held, "foot IMU"))
    for ref in ("INDIP", "stereo"):
        row(f"mobgap {ref}, pipeline 0.12.0", figures(mt, mb, [t.x[:, 0] > 0 for t in mb], ref))
        row(f"mobgap {ref}, fitted on voisard (held out)", figures(mt, mb, ma, ref), changes(mb, ma, ref))
    name_m, th_m, model_m = _choose(mt, mb, "INDIP")
    print(f"fitted and chosen on mobgap_lab INDIP: {_describe(name_m, th_m, model_m)}")
    for ref in ("INDIP", "stereo"):
        am = _apply(mb, name_m, th_m, model_m)
        row(f"mobgap {ref}, chosen on mobgap INDIP (in sample)", figures(mt, mb, am, ref), changes(mb, am, ref))
    av = _apply(vb, name_m, th_m, model_m)
    row("voisard, fitted on mobgap INDIP (held out)", figures(vt, vb, av, "foot IMU"), changes(vb, av, "foot IMU"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
