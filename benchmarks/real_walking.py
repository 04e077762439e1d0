"""Real walking recordings: loaders, reference events and one scorer for every walking detector.

Datasets (read from ``../shared/data/real``; see its README):

- ``voisard_l5_walk``: Xsens MTw at L5, 100 Hz, walk 10 m - U-turn - walk back; IC/TO/foot from
  foot-mounted IMUs (one reference: ``foot IMU``).
- ``mobgap_lab``: McRoberts MM+ at the lower back, 100 Hz; two references in the same files:
  ``INDIP`` (multi-sensor, the Mobilise-D standard) and ``stereo`` (stereophotogrammetry, a second
  opinion: INDIP itself is imperfect, e.g. the MS participant's right ICs run 60-130 ms late).

Any detector (imuback, mobgap) hands back :class:`Detected` per trial; :func:`score` matches it
one-to-one to each reference IC (``benchmarks/matching.py``) and keeps one row per reference IC and
per detection with the conditions it falls in (turn, bout edge, steady straight walking, speed band,
static tilt), so every
breakdown is a filter over the same rows.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import resource
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.core import RawSession
from imuback.formats.mobgap import MOBILISED_LOWER_BACK_R, MobgapTrial, load_mobgap
from imuback.formats.mobgap import mobgap_raw as mobgap_raw_session
from imuback.formats.xsens import read_xsens
from imuback.pipeline import process_raw
from imuback.signal.params import EventParams, PipelineParams
from matching import match

F64 = npt.NDArray[np.float64]
START = "2020-09-13T12:26:40Z"
"""voisard's files carry no date: their first sample is put here (Unix 1.6e9 s)."""
TOLERANCES_S = (0.05, 0.1, 0.25)
MOBGAP_R = MOBILISED_LOWER_BACK_R  # McRoberts MM+ -> body
VOISARD_R = np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64)  # Xsens at L5 -> body
SPEED_BANDS_MPS = (0.6, 1.0)
"""Gait speed bands: < 0.6 m/s (slow, e.g. older or impaired walkers), 0.6-1.0, >= 1.0 m/s."""
TILT_BANDS_DEG = (10.0, 20.0)
"""Static tilt bands beyond the nominal mounting: < 10°, 10-20°, >= 20°."""
REFERENCE_FEET_SWAPPED = ("voisard/4-1", "voisard/4-2")
"""Trials whose reference left/right foot labels are swapped, by evidence independent of imuback's
foot cues: the pelvis rolls the wrong way in 92-97 % of their reference stances (raw gyroscope,
nominal mounting), in 0-19 % in every other trial, the same subject's four others included, with
the sensor mounted as in those (``python benchmarks/pelvic_drop_sign.py --per-trial``). Feet are
reported with and without them; they are not dropped."""


@dataclass(frozen=True, kw_only=True)
class Reference:
    """One reference's walking events in one trial (times in s from the first sample).

    ``to_s[k]`` is the toe-off that ends the stance begun by ``ic_s[k]`` (NaN where unknown);
    ``bout_id[k]`` the reference walking bout of IC k; ``turn[k]`` True inside a turn.
    """

    ic_s: F64
    foot: npt.NDArray[np.str_]
    to_s: F64
    bout_id: npt.NDArray[np.int64]
    turn: npt.NDArray[np.bool_]
    bouts_s: F64
    """(B, 2) [start, end] of each reference walking bout."""
    speed_mps: F64
    """(B,) walking speed per bout (NaN where unknown)."""
    trial_s: tuple[float, float] = (-np.inf, np.inf)
    """[start, end] of the walk the trial recorded (voisard's ``TrialBoundaries``); the reference's
    foot events outside it are steps before or after the trial (unbounded where not given)."""


@dataclass(frozen=True, kw_only=True)
class Trial:
    """One real walking trial: the raw lower-back recording and its references."""

    dataset: str
    name: str
    subject: str
    raw: RawSession
    refs: dict[str, Reference]
    tilt_deg: float
    """Static tilt of the measured gravity from the nominal mounting's vertical (first 1 s)."""
    age: float = float("nan")


@dataclass(frozen=True, kw_only=True)
class Detected:
    """A detector's walking steps in one trial: IC, TO (NaN unknown), foot ('L', 'R' or '')."""

    ic_s: F64
    to_s: F64
    foot: npt.NDArray[np.str_]
    step_time_s: F64 = field(default_factory=lambda: np.zeros(0))
    """(S,) this IC to the next one where the detector reports a step time (NaN where it does
    not: a chain's or bout's end); empty for a detector that gives none (mobgap)."""


def event_params(settings: list[str]) -> EventParams:
    """``EventParams`` with ``NAME=VALUE`` settings (a Python literal, e.g. ``walk_edge_steps=3``):
    the ``--off`` / ``--set`` options of the walking benchmarks. A wrong name ends the run naming it.
    """
    fields = {f.name for f in dataclasses.fields(EventParams)}
    changes = {}
    for s in settings:
        name, _, value = s.partition("=")
        if name not in fields:
            raise SystemExit(f"{s}: EventParams has no field {name!r}")
        changes[name] = ast.literal_eval(value)
    return dataclasses.replace(EventParams(), **changes)


def throughput_line(trials: list[Trial], elapsed_s: float) -> str:
    """The closing line of a script over the real walking trials: samples/s over ``trials`` in
    ``elapsed_s`` and the process's peak memory (STYLE: every benchmark prints both).
    """
    n_samples = sum(tr.raw.n_samples for tr in trials)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (f"\n{n_samples / elapsed_s:,.0f} samples/s over {len(trials)} trials ({elapsed_s:.1f} s), "
            f"peak memory {peak_mb:.0f} MB")


def _tilt_deg(acc: F64, r: F64, fs: float) -> float:
    g = r @ np.mean(acc[: max(1, round(fs))], axis=0)
    return float(np.degrees(np.arccos(np.clip(g[2] / np.linalg.norm(g), -1.0, 1.0))))


# --- voisard_l5_walk ---

def _voisard_ref(meta: dict, n: int, fs: float) -> Reference:
    ics, feet, tos = [], [], []
    for side, key in (("L", "LeftFootEvents"), ("R", "RightFootEvents")):
        ev = np.asarray(meta[key], dtype=np.float64).reshape(-1, 2)  # [toe-off, initial contact]
        ev = ev[ev[:, 1] < n]  # foot events may run past the end of the lower-back file
        nxt_to = np.append(ev[1:, 0], np.nan)  # the stance begun at IC k ends at swing k+1's toe-off
        nxt_to[nxt_to >= n] = np.nan
        ics.append(ev[:, 1])
        tos.append(nxt_to)
        feet.append(np.full(ev.shape[0], side))
    ic, to, foot = np.concatenate(ics), np.concatenate(tos), np.concatenate(feet)
    o = np.argsort(ic, kind="stable")
    ic, to, foot = ic[o] / fs, to[o] / fs, foot[o]
    t0, t1 = meta["TrialBoundaries"]
    u0, u1 = meta["UTurnBoundaries"]
    turn = (ic >= u0 / fs) & (ic <= u1 / fs)
    # speed: 2 x 10 m over the straight walking time (approximate: the walkway's ends are not marked)
    straight_s = (t1 - t0 - (u1 - u0)) / fs
    speed = 20.0 / straight_s if straight_s > 0 else np.nan
    # some trials have foot events after TrialBoundaries (steps after the walk): the bout covers them
    start, end = min(t0 / fs, float(ic.min(initial=np.inf))), max(t1 / fs, float(ic.max(initial=-np.inf)))
    return Reference(ic_s=ic, foot=foot, to_s=to, bout_id=np.zeros(ic.size, np.int64), turn=turn,
                     bouts_s=np.array([[start, end]]), speed_mps=np.array([speed]), trial_s=(t0 / fs, t1 / fs))


def voisard_trials(root: Path) -> Iterator[Trial]:
    """Every trial of voisard_l5_walk (``<subject>-<trial>_lb.txt`` + ``.json``), read by imuback's
    Xsens reader (:mod:`imuback.formats.xsens`).
    """
    for lb in sorted(root.glob("GaitData/*_lb.txt"), key=lambda p: [int(s) for s in p.name[:-7].split("-")]):
        stem = lb.name[:-7]
        meta = json.loads((lb.parent / f"{stem}.json").read_text(encoding="utf-8"))
        name = f"voisard/{stem}"
        # PacketCounter is the sample number: it skips where the wireless link dropped packets (up to
        # ~3 % of a trial), and the foot events count on that clock, not in rows of the file
        raw = read_xsens(lb, runner_id="voisard", session_id=name.replace("/", "_"), start=START,
                         mounting=VOISARD_R)
        fs = raw.sample_rate_hz
        n = round((raw.time_ns[-1] - raw.time_ns[0]) * fs / 1e9) + 1  # samples on the sensor's clock
        acc = raw.acc_mps2.astype(np.float64)
        yield Trial(dataset="voisard_l5_walk", name=name, subject=f"v{meta['Subject']}", raw=raw,
                    refs={"foot IMU": _voisard_ref(meta, n, fs)},
                    tilt_deg=_tilt_deg(acc, VOISARD_R, fs), age=float(meta.get("Age", np.nan)))


# --- mobgap_lab ---

def _arr(x: object) -> F64:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def _mobgap_ref(std: dict) -> Reference:
    wbs = std["MicroWB"]
    wbs = wbs if isinstance(wbs, list) else [wbs]
    ic_l, foot_l, to_l, bout_l, turn_l, bouts, speed = [], [], [], [], [], [], []
    for b, wb in enumerate(wbs):
        ic = _arr(wb["InitialContact_Event"])
        lr = np.atleast_1d(np.asarray(wb["InitialContact_LeftRight"], dtype=object))
        fc = _arr(wb["FinalContact_Event"])
        good = np.isfinite(ic)
        k = np.flatnonzero(good)
        # the k-th final contact is the k-th IC's foot leaving the ground (the last may be absent)
        to = np.full(k.size, np.nan)
        has = k < fc.size
        to[has] = fc[k[has]]
        ts, te = _arr(wb.get("Turn_Start", [])), _arr(wb.get("Turn_End", []))
        ic = ic[good]
        ic_l.append(ic)
        foot_l.append(np.array(["L" if str(s).lower().startswith("l") else "R" for s in lr[good]], dtype=str))
        to_l.append(to)
        bout_l.append(np.full(ic.size, b, np.int64))
        turn_l.append(np.any((ic[:, None] >= ts[None, :]) & (ic[:, None] <= te[None, :]), axis=1)
                      if ts.size else np.zeros(ic.size, bool))
        bouts.append([float(wb["Start"]), float(wb["End"])])
        speed.append(float(np.nanmean(_arr(wb.get("WalkingSpeed", np.nan)))))
    ic, foot = np.concatenate(ic_l), np.concatenate(foot_l)
    o = np.argsort(ic, kind="stable")
    return Reference(ic_s=ic[o], foot=foot[o], to_s=np.concatenate(to_l)[o], bout_id=np.concatenate(bout_l)[o],
                     turn=np.concatenate(turn_l)[o], bouts_s=np.asarray(bouts, dtype=np.float64).reshape(-1, 2),
                     speed_mps=np.asarray(speed))


def mobgap_mat_trials(root: Path) -> Iterator[tuple[str, MobgapTrial]]:
    """(``<cohort>/<id>/<test>/<trial>``, the trial) for every LowerBack trial of mobgap_lab, read by
    imuback's mobgap reader (:mod:`imuback.formats.mobgap`).
    """
    for mat in sorted(root.glob("*/*/data.mat")):
        for trial in load_mobgap(mat):
            _session, test, name = trial.session_id.split("_")
            yield f"{mat.parent.parent.name}/{mat.parent.name}/{test}/{name}", trial


def mobgap_raw(name: str, x: MobgapTrial) -> RawSession:
    """The lower-back recording of one mobgap trial as a raw session (acc g -> m/s², Unix times)."""
    return mobgap_raw_session(x, runner=name.split("/")[0] + name.split("/")[1], source=name, sensor="McRoberts MM+")


def mobgap_trials(root: Path) -> Iterator[Trial]:
    """Every trial of mobgap_lab with an INDIP reference (and stereophotogrammetry where present)."""
    for name, trial in mobgap_mat_trials(root):
        refs = {}
        x = trial.struct
        for key, label in (("INDIP", "INDIP"), ("Stereophoto", "stereo")):
            std = x.get("Standards", {}).get(key)
            if std is not None and "MicroWB" in std and np.size(std["MicroWB"]):
                refs[label] = _mobgap_ref(std)
        if "INDIP" not in refs:
            continue
        raw = mobgap_raw(name, trial)
        yield Trial(dataset="mobgap_lab", name=name, subject="/".join(name.split("/")[:2]), raw=raw, refs=refs,
                    tilt_deg=_tilt_deg(raw.acc_mps2.astype(np.float64), MOBGAP_R, raw.sample_rate_hz))


def load(data: Path, *, no_gyro: bool = False) -> list[Trial]:
    """All real walking trials found under ``data/real`` (empty where the folders are absent);
    ``no_gyro``: with the gyroscope dropped, as an accelerometer-only sensor would record them."""
    out: list[Trial] = []
    v, m = data / "real" / "voisard_l5_walk", data / "real" / "mobgap_lab"
    if v.exists():
        out += list(voisard_trials(v))
    if m.exists():
        out += list(mobgap_trials(m))
    if no_gyro:
        out = [replace(t, raw=replace(t.raw, gyr_dps=None)) for t in out]
    return out


# --- detectors ---

def imuback_detect(trial: Trial, params: PipelineParams = PipelineParams()) -> Detected:
    """imuback's walking steps (running steps excluded) in one trial."""
    import pyarrow as pa
    import pyarrow.compute as pc

    st = process_raw(trial.raw, params=params).steps
    st = st.filter(pc.equal(st.column("activity"), "walk"))

    t0_ns = int(trial.raw.time_ns[0])  # references count from the first sample

    def sec(col: str) -> F64:
        v = st.column(col).cast(pa.int64()).to_numpy(zero_copy_only=False)
        return (np.asarray(v, dtype=np.float64) - t0_ns) / 1e9

    foot = np.asarray(st.column("foot").fill_null("").to_numpy(zero_copy_only=False), dtype=str)
    ic, to = sec("ic_time"), sec("to_time")
    step_s = np.asarray(st.column("step_time_s").to_numpy(zero_copy_only=False), dtype=np.float64)
    return Detected(ic_s=ic, to_s=to, foot=foot, step_time_s=step_s)


# --- scoring ---

@dataclass(frozen=True, kw_only=True)
class Rows:
    """Per reference IC (r_*) and per detection (d_*) rows of one detector on many trials at one tolerance."""

    r_found: npt.NDArray[np.bool_]
    r_ic_err_s: F64
    r_to_err_s: F64
    r_foot_est: npt.NDArray[np.str_]
    r_foot_ref: npt.NDArray[np.str_]
    r_cond: dict[str, npt.NDArray[np.str_]]
    d_matched: npt.NDArray[np.bool_]
    d_cond: dict[str, npt.NDArray[np.str_]]
    d_outside: int
    """Detections outside every reference walking bout (± 1 s): not counted against precision."""
    cadence_err_pct: F64 = field(default_factory=lambda: np.zeros(0))


BOUT_MARGIN_S = 1.0
"""Detections within this margin of a reference walking bout count for precision."""


def _band(x: F64, edges: tuple[float, float], unit: str) -> npt.NDArray[np.str_]:
    lab = np.array([f"<{edges[0]:g} {unit}", f"{edges[0]:g}-{edges[1]:g} {unit}", f">={edges[1]:g} {unit}"])
    out = lab[np.searchsorted(np.asarray(edges), x, side="right")]
    return np.where(np.isfinite(x), out, "unknown")


STEADY_RHYTHM = (0.6, 1.4)
"""A steady reference step's intervals to both neighbours, as shares of its bout's median interval."""
STEADY_TURN_MARGIN = 2
"""A steady reference step is more than this many reference ICs from one in a turn."""


def steady_rhythm(ref: Reference) -> npt.NDArray[np.bool_]:
    """Per reference IC, by the reference alone: inside its bout's steady rhythm (both intervals to
    its bout neighbours within ``STEADY_RHYTHM`` of the bout's median) and more than
    ``STEADY_TURN_MARGIN`` reference ICs from a turn, and inside the walk the trial recorded
    (``trial_s``) — the nearest real condition to steady (treadmill) walking. (voisard's reference
    bouts also hold foot events before and after the walk: weight shifts in standing, the closing
    steps, and steps after the trial, where the wearer turns round to stop — a turn its
    ``UTurnBoundaries`` do not mark; the steps into and out of a U-turn slow down before its marks.)"""
    ok = np.zeros(ref.ic_s.size, dtype=bool)
    for b in np.unique(ref.bout_id):  # bouts: few
        k = np.flatnonzero(ref.bout_id == b)
        if k.size < 5:
            continue
        r = np.diff(ref.ic_s[k])
        r = r / np.median(r)
        good = (r >= STEADY_RHYTHM[0]) & (r <= STEADY_RHYTHM[1])
        ok[k[1:-1]] = good[:-1] & good[1:]
    near_turn = np.convolve(ref.turn.astype(np.int64), np.ones(2 * STEADY_TURN_MARGIN + 1, np.int64), mode="same") > 0
    in_trial = (ref.ic_s >= ref.trial_s[0]) & (ref.ic_s <= ref.trial_s[1])
    return np.asarray(ok & ~near_turn & in_trial, dtype=bool)


def _conditions(trial: Trial, ref: Reference, t: F64) -> dict[str, npt.NDArray[np.str_]]:
    """Conditions at times ``t`` (reference ICs or detections) of one trial."""
    j = np.clip(np.searchsorted(ref.ic_s, t), 0, max(ref.ic_s.size - 1, 0))
    near = ref.turn[j] if ref.ic_s.size else np.zeros(t.size, bool)
    if ref.ic_s.size > 1:  # the nearer of the two neighbouring reference ICs
        k = np.clip(j - 1, 0, None)
        near = np.where(np.abs(ref.ic_s[k] - t) < np.abs(ref.ic_s[j] - t), ref.turn[k], ref.turn[j])
    b = np.clip(np.searchsorted(ref.bouts_s[:, 0], t, side="right") - 1, 0, ref.bouts_s.shape[0] - 1)
    # bout edge: the first or last two reference steps of a bout (gait initiation and termination)
    first = np.array([ref.ic_s[ref.bout_id == i][:2].max(initial=-np.inf) for i in range(ref.bouts_s.shape[0])])
    last = np.array([ref.ic_s[ref.bout_id == i][-2:].min(initial=np.inf) for i in range(ref.bouts_s.shape[0])])
    edge = (t <= first[b] + 1e-9) | (t >= last[b] - 1e-9)
    nearest = j
    if ref.ic_s.size > 1:
        nearest = np.where(np.abs(ref.ic_s[k] - t) < np.abs(ref.ic_s[j] - t), k, j)
    steady = (steady_rhythm(ref)[nearest] & ~near & ~edge) if ref.ic_s.size else np.zeros(t.size, bool)
    return {"all": np.full(t.size, "all"),
            "turn": np.where(near, "turn", "straight"),
            "bout": np.where(edge, "start/end (2 steps)", "mid-bout"),
            "steady": np.where(steady, "steady straight", "other"),
            "speed": _band(np.full(t.size, ref.speed_mps[b]) if t.size else np.zeros(0), SPEED_BANDS_MPS, "m/s"),
            "tilt": _band(np.full(t.size, trial.tilt_deg), TILT_BANDS_DEG, "deg"),
            "subject": np.full(t.size, trial.subject)}


CADENCE_MARGIN_S = 0.1
"""The detections within this margin of a reference bout count for its cadence."""


def in_bout(ic_s: F64, start_s: float, end_s: float) -> F64:
    """The ICs (s) within ``CADENCE_MARGIN_S`` of the bout ``[start_s, end_s]``."""
    return ic_s[(ic_s >= start_s - CADENCE_MARGIN_S) & (ic_s <= end_s + CADENCE_MARGIN_S)]


def bout_cadence_err_pct(ref_ic_s: F64, det_ic_s: F64) -> float:
    """Cadence from the median step time, detections (:func:`in_bout`) vs reference ICs of one bout (%).

    NaN under 4 reference ICs or 3 detections (the bout is not scored).
    """
    if ref_ic_s.size < 4 or det_ic_s.size < 3:
        return float("nan")
    rc, dc = 60.0 / np.median(np.diff(ref_ic_s)), 60.0 / np.median(np.diff(det_ic_s))
    return float(100.0 * (dc - rc) / rc)


def _cadence_err(ref: Reference, det: Detected) -> list[float]:
    """Per reference bout of >= 4 steps: cadence from the median step time, estimated vs reference (%)."""
    errs = [bout_cadence_err_pct(ref.ic_s[ref.bout_id == i], in_bout(det.ic_s, s, e))
            for i, (s, e) in enumerate(ref.bouts_s)]
    return [x for x in errs if np.isfinite(x)]


def score(trials: list[Trial], dets: list[Detected], *, ref_name: str, tol_s: float) -> Rows:
    """One-to-one matching of detections to the ``ref_name`` reference ICs of each trial."""
    parts: dict[str, list] = {k: [] for k in ("found", "ie", "te", "fe", "fr", "dm")}
    rc: dict[str, list] = {}
    dc: dict[str, list] = {}
    outside = 0
    cad: list[float] = []
    for tr, det in zip(trials, dets, strict=True):
        ref = tr.refs.get(ref_name)
        if ref is None:
            continue
        inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - BOUT_MARGIN_S)
                     & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + BOUT_MARGIN_S), axis=1)
        outside += int(np.count_nonzero(~inb))
        ic, to, foot = det.ic_s[inb], det.to_s[inb], det.foot[inb]
        ei, ri = match(ic, ref.ic_s, tol_s)
        found = np.zeros(ref.ic_s.size, bool)
        found[ri] = True
        ie = np.full(ref.ic_s.size, np.nan)
        ie[ri] = ic[ei] - ref.ic_s[ri]
        te = np.full(ref.ic_s.size, np.nan)
        te[ri] = to[ei] - ref.to_s[ri]
        fe = np.full(ref.ic_s.size, "-", dtype="<U1")
        fe[ri] = np.where(foot[ei] == "", "?", foot[ei])
        dm = np.zeros(ic.size, bool)
        dm[ei] = True
        for k, v in zip(("found", "ie", "te", "fe", "fr", "dm"), (found, ie, te, fe, ref.foot, dm), strict=True):
            parts[k].append(v)
        for k, v in _conditions(tr, ref, ref.ic_s).items():
            rc.setdefault(k, []).append(v)
        for k, v in _conditions(tr, ref, ic).items():
            dc.setdefault(k, []).append(v)
        cad += _cadence_err(ref, det)
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    return Rows(r_found=cat["found"].astype(bool), r_ic_err_s=cat["ie"], r_to_err_s=cat["te"],
                r_foot_est=cat["fe"].astype(str), r_foot_ref=cat["fr"].astype(str),
                r_cond={k: np.concatenate(v) for k, v in rc.items()},
                d_matched=cat["dm"].astype(bool), d_cond={k: np.concatenate(v) for k, v in dc.items()},
                d_outside=outside, cadence_err_pct=np.asarray(cad))


@dataclass(frozen=True, kw_only=True)
class Figures:
    """Summary of rows (one condition value)."""

    n_ref: int
    recall: float
    precision: float
    ic_bias_ms: float
    ic_sd_ms: float
    to_bias_ms: float
    to_sd_ms: float
    n_to: int
    foot_acc: float
    unlabelled: float


def figures(rows: Rows, cond: str = "all", value: str = "all") -> Figures:
    """Recall, precision, IC/TO bias ± SD, foot accuracy and unlabelled share where ``cond == value``."""
    r = rows.r_cond[cond] == value if rows.r_cond else np.zeros(0, bool)
    d = rows.d_cond[cond] == value if rows.d_cond else np.zeros(0, bool)
    f = rows.r_found & r
    ie = rows.r_ic_err_s[f]
    te = rows.r_to_err_s[f]
    te = te[np.isfinite(te)]
    lab = f & np.isin(rows.r_foot_est, ["L", "R"])
    nan = float("nan")
    return Figures(n_ref=int(r.sum()), recall=float(f.sum() / max(r.sum(), 1)),
                   precision=float(rows.d_matched[d].sum() / d.sum()) if d.any() else nan,
                   ic_bias_ms=1e3 * float(np.mean(ie)) if ie.size else nan,
                   ic_sd_ms=1e3 * float(np.std(ie)) if ie.size else nan,
                   to_bias_ms=1e3 * float(np.mean(te)) if te.size else nan,
                   to_sd_ms=1e3 * float(np.std(te)) if te.size else nan, n_to=int(te.size),
                   foot_acc=float(np.mean(rows.r_foot_est[lab] == rows.r_foot_ref[lab])) if lab.any() else nan,
                   unlabelled=float(1.0 - lab.sum() / f.sum()) if f.any() else nan)


HEADER = (f"{'condition':<24}{'n ref':>6}{'recall':>8}{'prec':>7}{'IC bias±SD ms':>16}{'TO bias±SD ms (n)':>22}"
          f"{'foot':>7}{'unlab':>7}")


def line(label: str, f: Figures) -> str:
    """One table row."""
    return (f"{label:<24}{f.n_ref:>6}{f.recall:>8.3f}{f.precision:>7.3f}{f.ic_bias_ms:>+8.1f} ±{f.ic_sd_ms:>5.1f}"
            f"{f.to_bias_ms:>+11.1f} ±{f.to_sd_ms:>5.1f} ({f.n_to:>4})"
            f"{f.foot_acc:>7.3f}{f.unlabelled:>7.3f}")


CONDITIONS = ("turn", "bout", "steady", "speed", "tilt")


def report(trials: list[Trial], dets: list[Detected], *, title: str,
           print_fn: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """Print the walking tables per dataset and reference; return the headline figures (±100 ms)."""
    out: dict[str, dict[str, float]] = {}
    for ds in sorted({t.dataset for t in trials}):
        sel = [i for i, t in enumerate(trials) if t.dataset == ds]
        tr, de = [trials[i] for i in sel], [dets[i] for i in sel]
        for ref_name in sorted({k for t in tr for k in t.refs}):
            print_fn(f"\n## {title}: {ds}, reference {ref_name} ({len(tr)} trials)")
            for tol in TOLERANCES_S:
                rows = score(tr, de, ref_name=ref_name, tol_s=tol)
                print_fn(f"within ±{1e3 * tol:.0f} ms: {line('all', figures(rows))}")
            rows = score(tr, de, ref_name=ref_name, tol_s=0.1)
            print_fn(f"by condition, ±100 ms:  (detections outside reference bouts ±{BOUT_MARGIN_S:g} s, "
                     f"not scored: {rows.d_outside})")
            print_fn(HEADER)
            for cond in CONDITIONS:
                for v in sorted(set(rows.r_cond[cond].tolist())):
                    print_fn(line(f"{cond}: {v}", figures(rows, cond, v)))
            c = rows.cadence_err_pct
            med = float(np.median(np.abs(c))) if c.size else float("nan")
            print_fn(f"cadence per walking bout: |error| median {med:.2f} %, mean {np.mean(np.abs(c)):.2f} % "
                     f"over {c.size} bouts")
            a = figures(rows)
            swapped = [t.name for t in tr if t.name in REFERENCE_FEET_SWAPPED]
            if swapped:
                keep = [i for i, t in enumerate(tr) if t.name not in REFERENCE_FEET_SWAPPED]
                b = figures(score([tr[i] for i in keep], [de[i] for i in keep], ref_name=ref_name, tol_s=0.1))
                print_fn(f"feet without {', '.join(swapped)} (reference feet swapped): foot {b.foot_acc:.3f}, "
                         f"unlab {b.unlabelled:.3f} over {len(keep)} trials (with them: foot {a.foot_acc:.3f}, "
                         f"unlab {a.unlabelled:.3f})")
            out[f"{ds}/{ref_name}"] = {"recall": a.recall, "precision": a.precision, "ic_bias_ms": a.ic_bias_ms,
                                       "ic_sd_ms": a.ic_sd_ms, "to_bias_ms": a.to_bias_ms, "to_sd_ms": a.to_sd_ms,
                                       "foot_acc": a.foot_acc, "unlabelled": a.unlabelled,
                                       "cadence_err_pct_median": med, "n_ref": a.n_ref}
    return out
