"""Alignment from any sensor orientation: the same recording turned into the 24 axis-aligned
orientations and random ones, processed with the nominal mounting left unchanged.

    python benchmarks/align_any.py [--data ../shared/data] [--random 30] [--sim-only]

For each recording the pipeline's result on the recording as worn is the reference; each turned
copy must give the same steps (ICs within 20 ms, one to one), the same feet, the same cadence and
the same body frame (angle between the frames found). Simulated sessions are also scored against
their true body frame. Real recordings: voisard_l5_walk and mobgap_lab (skipped with a message
where absent).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.signal.activity import STILL
from imuback.signal.align import _energy_exchange
from imuback.signal.events import UNKNOWN
from imuback.signal.frames import rotation_angle_deg
from imuback.signal.session import SessionAnalysis, analyse_session
from imuback.simulate.runner import simulate_session
from imuback.simulate.sensor import uniform_rotation
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import match

F64 = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
T0_NS = 1_600_000_000 * 10**9
VOISARD_R = np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64)  # Xsens at L5 -> body


def axis_rotations() -> list[F64]:
    """The 24 proper rotations that map the axes onto (signed) axes."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[np.arange(3), perm] = signs
            if np.linalg.det(m) > 0:
                out.append(m)
    return out


def random_rotations(n: int, seed: int = 7) -> list[F64]:
    """``n`` rotations drawn uniformly over SO(3), as the simulator draws a phone's orientation."""
    rng = np.random.default_rng(seed)
    return [uniform_rotation(rng) for _ in range(n)]


def turned(raw: RawSession, q: F64) -> RawSession:
    """``raw`` as a sensor turned by ``q`` would record it: ``v_new = q.T @ v_old``; mounting kept."""
    gyr = None if raw.gyr_dps is None else (raw.gyr_dps.astype(np.float64) @ q).astype(np.float32)
    return replace(raw, acc_mps2=(raw.acc_mps2.astype(np.float64) @ q).astype(np.float32), gyr_dps=gyr)


@dataclass
class Agreement:
    """Turned copies against the recording as worn (pooled over copies)."""

    copies: int = 0
    ref_steps: int = 0
    same_steps: int = 0
    extra_steps: int = 0
    same_feet: int = 0
    labelled: int = 0
    cadence_diff_pct: float = 0.0
    frame_err_deg: float = 0.0
    failed: int = 0

    def line(self, what: str) -> str:
        kept = 100 * self.same_steps / max(self.ref_steps, 1)
        return (f"{what}: {self.copies} turned copies; steps kept {kept:.2f} % "
                f"of {self.ref_steps} (within 20 ms), extra {self.extra_steps}; same foot "
                f"{100 * self.same_feet / max(self.labelled, 1):.2f} % of {self.labelled}; cadence worst "
                f"{self.cadence_diff_pct:.2f} %; frame worst {self.frame_err_deg:.1f} deg; "
                f"copies with a wrong frame (> 10 deg) {self.failed}")


def _cadence_spm(a: SessionAnalysis) -> float:
    d = np.diff(a.steps.ic_pos) / a.body.fs_hz
    d = d[(d > 0.2) & (d < 1.5)]
    return 60.0 / float(np.median(d)) if d.size else float("nan")


def compare(raw: RawSession, rotations: list[F64], agg: Agreement, true_rot: F64 | None = None) -> None:
    """Process ``raw`` as worn and turned by each rotation; add the agreement to ``agg``."""
    ref = analyse_session(raw)
    r_ic = ref.steps.ic_pos / ref.body.fs_hz
    r_foot = np.asarray(ref.steps.foot)
    r_cad = _cadence_spm(ref)
    want0 = ref.rotation if true_rot is None else true_rot
    for q in rotations:  # one pipeline run per copy
        a = analyse_session(turned(raw, q))
        ic = a.steps.ic_pos / a.body.fs_hz
        ei, ri = match(ic, r_ic, 0.02)
        agg.copies += 1
        agg.ref_steps += r_ic.size
        agg.same_steps += ri.size
        agg.extra_steps += ic.size - ei.size
        foot = np.asarray(a.steps.foot)[ei]
        lab = (foot != UNKNOWN) & (r_foot[ri] != UNKNOWN)
        agg.labelled += int(lab.sum())
        agg.same_feet += int(np.sum(foot[lab] == r_foot[ri][lab]))
        if np.isfinite(r_cad):
            agg.cadence_diff_pct = max(agg.cadence_diff_pct, 100 * abs(_cadence_spm(a) - r_cad) / r_cad)
        err = rotation_angle_deg(a.rotation @ (want0 @ q).T)
        agg.frame_err_deg = max(agg.frame_err_deg, err)
        agg.failed += int(err > 10.0)


def energy_cue(px: F64, vert: F64, sel: npt.NDArray[np.bool_], fs_hz: float) -> float:
    """Signed correlation of the forward acceleration ``px`` with the vertical velocity (the
    forward-sign cue of signal/align.py) over ``sel``; negative in walking, positive in running."""
    cov, corr = _energy_exchange(px, np.zeros_like(px), vert, sel, fs_hz, np.array([0, px.size]))
    return float(np.sign(cov[0]) * corr)


def session_cue(raw: RawSession) -> float:
    """:func:`energy_cue` of ``raw`` in the body frame found as worn, over its gait bouts."""
    a = analyse_session(raw)
    moving = np.zeros(a.body.n, dtype=bool)
    for s, e, lab in zip(a.bouts.start_idx, a.bouts.end_idx, a.bouts.label, strict=True):  # few bouts
        moving[s:e] |= lab != STILL
    return energy_cue(a.body.acc_mps2[:, 0], a.body.acc_mps2[:, 2], moving, a.body.fs_hz)


def voisard_raws(root: Path) -> Iterator[RawSession]:
    """Each voisard_l5_walk trial as a raw session (Xsens: m/s², rad/s -> deg/s)."""
    for f in sorted(root.glob("GaitData/*_lb.txt")):
        d = np.genfromtxt(f, skip_header=1, names=True, delimiter="\t")
        acc = np.column_stack([d["Acc_X"], d["Acc_Y"], d["Acc_Z"]])
        gyr = np.degrees(np.column_stack([d["Gyr_X"], d["Gyr_Y"], d["Gyr_Z"]]))
        n = acc.shape[0]
        yield RawSession(session_id="voisard_" + f.stem.replace("-", "_"), runner_id="voisard",
                         sensor="Xsens MTw", sample_rate_hz=100.0,
                         time_ns=(T0_NS + np.round(np.arange(n) / 100.0 * 1e9)).astype(np.int64),
                         acc_mps2=acc.astype(np.float32), gyr_dps=gyr.astype(np.float32), mounting=VOISARD_R)


def _real(name: str, raws: list[RawSession], rotations: list[F64]) -> None:
    """Print the turned-copy agreement and the forward-sign cue of real walking recordings."""
    agg = Agreement()
    cues = []
    for raw in raws:  # one recording at a time
        compare(raw, rotations, agg)
        cues.append(session_cue(raw))
    print(agg.line(f"{name} (real, each trial x {len(rotations)})"))
    print(f"{name} forward-sign cue as worn (walking: < 0): {min(cues):+.2f} to {max(cues):+.2f} "
          f"over {len(cues)} trials")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--random", type=int, default=30)
    ap.add_argument("--real-random", type=int, default=6, help="random rotations per real trial")
    ap.add_argument("--sim-only", action="store_true")
    args = ap.parse_args(argv)
    rots = axis_rotations() + random_rotations(args.random)
    from sim_accuracy import phone_scenario, walking_scenario  # benchmarks/sim_accuracy.py

    for name, params in (("strapped running session", phone_scenario(0, 2.0, phone=False)),
                         ("realistic walking session at 0.8 m/s", walking_scenario(1)),
                         ("realistic walking session at 0.45 m/s", walking_scenario(0))):
        sim = simulate_session(params, seed=11, session_id="align", runner_id="sim", start_time=T0_NS)
        agg = Agreement()
        compare(sim.raw, rots, agg, true_rot=np.asarray(sim.truth["mounting_true"]))
        print(agg.line(f"simulated {name} (24 axis-aligned + {args.random} random)"))
    if args.sim_only:
        return 0
    real_rots = axis_rotations() + random_rotations(args.real_random, seed=3)
    vroot = args.data / "real" / "voisard_l5_walk"
    if vroot.is_dir():
        _real("voisard_l5_walk", list(voisard_raws(vroot)), real_rots)
    else:
        print(f"voisard_l5_walk: {vroot} not found, skipped")
    mroot = args.data / "real" / "mobgap_lab"
    if mroot.is_dir():
        from real_walking import mobgap_mat_trials, mobgap_raw  # benchmarks/real_walking.py

        _real("mobgap_lab", [mobgap_raw(name, x) for name, x in mobgap_mat_trials(mroot)], real_rots)
    else:
        print(f"mobgap_lab: {mroot} not found, skipped")
    aroot = args.data / "real" / "alcantara_treadmill"
    if aroot.is_dir():  # vertical and AP channels (g, 500 Hz), anterior positive
        acc = np.loadtxt(aroot / "Accelerometer.csv", delimiter=",")
        n = acc.shape[1] // 2
        cues = np.sort([energy_cue(row[n:] - row[n:].mean(), row[:n], np.ones(n, dtype=bool), 500.0)
                        for row in acc])
        print(f"alcantara_treadmill forward-sign cue (running: > 0): {np.sum(cues > 0)} of {cues.size} "
              f"trials positive; {' '.join(f'{c:+.2f}' for c in cues)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
