"""Slow walking's feet: which foot cue names the wrong foot, and what the pelvis does around IC.

    python benchmarks/slow_feet.py [--data ../shared/data] [--off NAME=VALUE ...]

Sets: the simulated realistic walks at 0.45 m/s (``sim_accuracy.walking_scenario`` 0 and 4, seeds
300 and 304: the sessions of ``validate.py``), mobgap_lab's reference walking bouts slower than
0.6 m/s (INDIP and, as a second opinion, stereophotogrammetry) and voisard_l5_walk's slowest trials
(below 0.95 m/s: 0.78-0.92 m/s). The trials whose reference feet are swapped
(``real_walking.REFERENCE_FEET_SWAPPED``) are left out.

**Cues per step** (the pipeline's own ``assign_feet`` inputs, captured as in ``foot_anatomy.py``):
every detected walking step matched to a reference IC (±100 ms at the unrefined IC) in a row by
the outcome (labelled right, labelled WRONG, or the rule that left it null), whether its chain
alternates there ("missed step": a neighbouring detection of the same chain matched to the same
reference foot, i.e. the chain's alternation skipped a real step), and whether each of the two cues
(the lateral acceleration over the step, the 0.5-2 Hz yaw rate ``foot_yaw_lead_s`` before IC) has
the reference foot's sign.

**Step-locked averages** around the reference ICs (the pipeline's body frame only, not its events):
yaw rate, the yaw rate in the cue's band (0.5-2 Hz, zero phase), roll rate and mediolateral
specific force minus its mean (g), sign-flipped on left steps, every 40 ms from -300 to +300 ms;
steps of straight walking (1 Hz low-passed |yaw rate| < 30 deg/s at IC) with both neighbouring
reference steps shorter than 1.5 s. Per step: how often the cue-band yaw rate 60 ms before IC and
the mean lateral acceleration from IC to the next reference IC have the foot's sign (the two cues
with perfect events).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foot_anatomy as fa
import real_walking as rw
import sim_accuracy as sa
from imuback.core import G_MPS2, RawSession
from imuback.pipeline import process_raw
from imuback.signal.activity import WALK
from imuback.signal.dsp import bandpass, lowpass
from imuback.signal.events import FOOT_REASONS, RIGHT, foot_reasons
from imuback.signal.params import EventParams, PipelineParams
from matching import match

F64 = npt.NDArray[np.float64]
SIM_SLOW = (0, 4)
"""``sim_accuracy.walking_scenario`` indices at 0.45 m/s (seeds 300 + i, as in validate.py)."""
MOBGAP_SLOW_MPS = 0.6
VOISARD_SLOW_MPS = 0.95
LAGS_S = np.round(np.arange(-0.3, 0.3001, 0.04), 3)
CHANNELS = ("yaw_dps", "yaw_cue_band_dps", "roll_dps", "ml_g")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Slow:
    """One recording's slow walking: reference ICs (s from the first sample), feet, and which ICs count."""

    set_name: str
    raw: RawSession
    ic_s: F64
    foot: npt.NDArray[np.str_]
    keep: npt.NDArray[np.bool_]


def slow_recordings(data: Path) -> Iterator[Slow]:
    """The simulated 0.45 m/s walks, then the real slow walking (see the module docstring)."""
    for i in SIM_SLOW:
        sim = sa.simulate_session(sa.walking_scenario(i), seed=300 + i, session_id=f"acc{i}", runner_id="sim",
                                  start_time=sa.T0_NS)
        ts = sim.truth_steps
        keep = ((np.asarray(ts.column("activity").to_pylist()) == "walk")
                & ~np.asarray(ts.column("lost_in_gap").to_pylist(), dtype=bool))
        ic = (np.asarray(ts.column("ic_time").cast("int64").to_numpy(), dtype=np.int64) - int(sim.raw.time_ns[0])) / 1e9
        foot = np.asarray([str(f)[:1].upper() if f else "" for f in ts.column("foot").to_pylist()])
        o = np.argsort(ic, kind="stable")
        yield Slow(set_name="simulated 0.45 m/s", raw=sim.raw, ic_s=ic[o], foot=foot[o], keep=keep[o])
    for t in rw.load(data):
        if t.name in rw.REFERENCE_FEET_SWAPPED:
            continue
        for ref_name, ref in t.refs.items():
            if t.dataset == "mobgap_lab":
                keep = ref.speed_mps[ref.bout_id] < MOBGAP_SLOW_MPS
                name = f"mobgap_lab < {MOBGAP_SLOW_MPS} m/s ({ref_name})"
            else:
                keep = np.full(ref.ic_s.size, bool(ref.speed_mps[0] < VOISARD_SLOW_MPS))
                name = f"voisard_l5_walk < {VOISARD_SLOW_MPS} m/s"
            if keep.any():
                yield Slow(set_name=name, raw=t.raw, ic_s=ref.ic_s, foot=ref.foot, keep=keep)


def capture(raw: RawSession, params: PipelineParams) -> dict[str, Any]:
    """The pipeline's ``assign_feet`` inputs and body frame for one recording."""
    return fa._capture(lambda: process_raw(raw, params=params))


def cue_rows(got: dict[str, Any], s: Slow, counts: Counter[tuple[str, ...]]) -> None:
    """Add one row per matched slow step: outcome, chain alternation, lateral cue, yaw cue."""
    st = got.get("steps")
    if st is None or st.n == 0:
        return
    cue = np.asarray(got["cue"])
    second = got["kw"].get("second")
    yaw = np.zeros(st.n) if second is None else np.asarray(second)
    parity, why = foot_reasons(st, cue, **got["kw"])
    walk = np.flatnonzero(st.activity == WALK)
    ref_i = np.flatnonzero(s.keep)
    ei, ri = match(st.ic_pos[walk] / got["fs"], s.ic_s[ref_i], 0.1)
    side = np.zeros(st.n)
    side[walk[ei]] = np.where(s.foot[ref_i[ri]] == "R", 1.0, -1.0)
    same_chain_next = np.append(st.chain[1:] == st.chain[:-1], False)
    skip = same_chain_next & (side != 0) & (np.append(side[1:], 0.0) == side)  # two same-foot steps in a row
    skipped = skip | np.concatenate([[False], skip[:-1]])
    for k in walk[ei]:
        outcome = (("right" if (parity[k] == RIGHT) == (side[k] > 0) else "WRONG") if why[k] == 0
                   else FOOT_REASONS[why[k]])
        counts[(outcome, "missed step" if skipped[k] else "alternates",
                "right" if cue[k] * side[k] > 0 else "WRONG", "right" if yaw[k] * side[k] > 0 else
                ("none" if yaw[k] == 0 else "WRONG"))] += 1


def found_pattern(got: dict[str, Any], s: Slow) -> str:
    """The slow reference steps in time order: their foot where a walking detection matched them
    (±100 ms at the unrefined IC), ``.`` where none did."""
    st = got.get("steps")
    ref_i = np.flatnonzero(s.keep)
    found = np.zeros(ref_i.size, dtype=bool)
    if st is not None and st.n:
        walk = np.flatnonzero(st.activity == WALK)
        found[match(st.ic_pos[walk] / got["fs"], s.ic_s[ref_i], 0.1)[1]] = True
    return "".join(str(f) if ok else "." for f, ok in zip(s.foot[ref_i], found, strict=True))


def peak_pairs(got: dict[str, Any], s: Slow) -> F64:
    """(2, n) each slow step's vertical peak and the previous step's (g; 3 Hz low-passed body-frame
    vertical, maximum over 0-0.3 s after the reference IC, less its 5-step running median: slow
    trends such as turns and speed changes taken out), for consecutive steps under 1 s apart."""
    from scipy.ndimage import median_filter

    b = got["body"]
    fs = b.fs_hz
    v = lowpass(b.acc_mps2[:, 2].astype(np.float64) / G_MPS2, 3.0, fs, np.array([0, b.n]))
    ic = s.ic_s[s.keep]
    i0 = np.round(ic * fs).astype(np.int64)
    inside = (i0 >= 0) & (i0 + round(0.3 * fs) < b.n)
    ic, i0 = ic[inside], i0[inside]
    if ic.size < 3:
        return np.zeros((2, 0))
    win = i0[:, None] + np.arange(round(0.3 * fs))[None, :]
    pk = v[win].max(axis=1)
    pk = pk - median_filter(pk, size=5, mode="nearest")
    ok = np.diff(ic) < 1.0
    return np.stack([pk[1:][ok], pk[:-1][ok]])


def locked(got: dict[str, Any], s: Slow) -> tuple[F64, F64]:
    """(4, n, lags) step-locked channels (:data:`CHANNELS`) and (2, n) per-step cue signs (+1 right)."""
    b = got["body"]
    fs = b.fs_hz
    bounds = np.array([0, b.n])
    t = np.arange(b.n) / fs
    assert b.gyr_dps is not None
    ic = s.ic_s
    d = np.diff(ic)
    ok = s.keep & np.isin(s.foot, ("L", "R"))
    ok[1:] &= d < 1.5
    ok[:-1] &= d < 1.5
    ok[0] = ok[-1] = False
    ok &= (ic - 0.3 >= t[0]) & (ic + 0.3 <= t[-1])
    yaw1 = np.abs(lowpass(b.gyr_dps[:, 2].astype(np.float64), 1.0, fs, bounds))
    ok[ok] &= np.interp(ic[ok], t, yaw1) < 30.0
    k = np.flatnonzero(ok)
    side = np.where(s.foot[k] == "R", 1.0, -1.0)
    yaw_band = bandpass(b.gyr_dps[:, 2].astype(np.float64), 0.5, 2.0, fs, bounds)
    ml = (b.acc_mps2[:, 1] - np.mean(b.acc_mps2[:, 1])) / G_MPS2
    chans = (b.gyr_dps[:, 2], yaw_band, b.gyr_dps[:, 0], ml)
    at = ic[k, None] + LAGS_S[None, :]
    win = np.stack([np.interp(at, t, c) for c in chans]) * side[None, :, None]
    lead = EventParams().foot_yaw_lead_s
    yaw_sign = np.sign(np.interp(ic[k] - lead, t, yaw_band)) * side
    ml_int = np.concatenate([[0.0], np.cumsum(ml)])
    i0 = np.clip(np.round(ic[k] * fs).astype(np.int64), 0, b.n)
    i1 = np.clip(np.round(ic[k + 1] * fs).astype(np.int64), 0, b.n)
    lat_sign = np.sign((ml_int[i1] - ml_int[i0]) / np.maximum(i1 - i0, 1)) * side
    return win, np.stack([lat_sign, yaw_sign])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    params = fa.params_with(args.off)
    counts: dict[str, Counter[tuple[str, ...]]] = {}
    wins: dict[str, list[F64]] = {}
    signs: dict[str, list[F64]] = {}
    pairs: dict[str, list[F64]] = {}
    print("# Slow reference steps found by the detector, in time order (foot where found, . where missed)")
    for s in slow_recordings(args.data):
        got = capture(s.raw, params)
        if s.set_name.startswith("simulated") or "stereo" in s.set_name:
            print(f"{s.set_name:34s} {found_pattern(got, s)}")
        cue_rows(got, s, counts.setdefault(s.set_name, Counter()))
        pairs.setdefault(s.set_name, []).append(peak_pairs(got, s))
        w, sg = locked(got, s)
        wins.setdefault(s.set_name, []).append(w)
        signs.setdefault(s.set_name, []).append(sg)
    print("\n# Cues per matched slow step (outcome; chain alternation; lateral cue; yaw cue names the reference foot)")
    for name, c in counts.items():
        n = sum(c.values())
        wrong = sum(v for k, v in c.items() if k[0] == "WRONG")
        null = sum(v for k, v in c.items() if k[0] not in ("right", "WRONG"))
        print(f"\n## {name}: {n} matched steps, {n - null} labelled, {wrong} WRONG "
              f"({100 * wrong / max(n - null, 1):.1f} % of labelled), "
              f"{null} unlabelled ({100 * null / max(n, 1):.1f} %)")
        print(f"{'outcome':<18}{'chain':>13}{'lateral':>9}{'yaw':>7}{'steps':>7}")
        for key, v in sorted(c.items(), key=lambda kv: -kv[1]):
            print(f"{key[0]:<18}{key[1]:>13}{key[2]:>9}{key[3]:>7}{v:>7}")
    print("\n# Step-locked averages around the reference ICs, straight slow walking, sign-flipped on left steps")
    means = {k: np.concatenate(v, axis=1).mean(axis=1) for k, v in wins.items()}
    ref_name = next((k for k in means if k.startswith("mobgap_lab") and "stereo" in k), None)
    for c, cname in enumerate(CHANNELS):
        print(f"\n{cname + ' at ms':34s} " + " ".join(f"{1e3 * x:6.0f}" for x in LAGS_S) + "   r with mobgap stereo")
        for name, m in means.items():
            r = f"{np.corrcoef(m[c], means[ref_name][c])[0, 1]:+.2f}" if ref_name else "-"
            print(f"{name:34s} " + " ".join(f"{x:6.2f}" for x in m[c]) + f"   {r}")
    print("\n# Per step with the reference events: the cue names the foot (share of steps)")
    print(f"{'':34s} {'steps':>6s} {'lateral over the step':>22s} {'yaw rate 60 ms before IC':>25s}")
    for name, v in signs.items():
        sg = np.concatenate(v, axis=1)
        print(f"{name:34s} {sg.shape[1]:6d} {np.mean(sg[0] > 0):22.3f} {np.mean(sg[1] > 0):25.3f}")
    print("\n# Step to step: lag-1 correlation of the steps' vertical peaks (less their 5-step running median)")
    print("  (negative: strong and weak steps alternate, so a detector finds every other step)")
    for name, v in pairs.items():
        pp = np.concatenate(v, axis=1)
        print(f"{name:34s} {pp.shape[1]:6d} pairs  r {np.corrcoef(pp[0], pp[1])[0, 1]:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
