"""Running peak vGRF from Clark, Ryan & Weyand's (2017) two-mass model, on alcantara_treadmill.

    python benchmarks/run_two_mass.py [--data ../shared/data]

The two-mass model (Clark, Ryan & Weyand 2017, J Exp Biol 220: 247-258; Clark et al. 2014, J Exp
Biol 217: 2037-2040) splits the body into the stance foot and shank, ``m1 = 0.08 m_b``, and the rest,
``m2 = 0.92 m_b``. The vertical force of a contact is the sum of two impulses:

- ``J1``: m1 stopping from its touchdown velocity ``dV1`` (down) in ``t1`` (touchdown to m1 at rest,
  the impact peak), modelled as a raised cosine of duration ``2 t1`` peaking at ``t1``; half its
  impulse stops m1 and carries m1's weight, ``J1 / 2 = m1 (dV1 + g t1)``, so its peak is
  ``F1 / BW = 2 (m1 / m_b) (dV1 / (g t1) + 1)``;
- ``J2 = J_total - J1``: the rest of the body over the whole contact, where over a steady step the
  total vertical impulse carries body weight over the step, ``J_total / BW = step_time``. Clark
  et al. model it as a raised cosine (peak 2 x its mean); the house's spring-mass model as a
  half-sine (peak pi / 2 x its mean, Morin 2005).

Peak vGRF = the maximum over the contact of ``F1(t) + F2(t)``. The sacrum gives ``dV1``: the body's
vertical velocity at IC, integrated from the vertical specific force minus g over the step, with
zero mean over the step (a steady run: the body's height returns each step). Treating the
shank's touchdown velocity as the body's is the model's assumption here (no shank sensor).

Constants: ``m1 = 0.08 m_b`` (Clark 2017; Plagenhoef 1983); ``t1 = 25 ms``: a round figure inside
"the impact peak of a heel strike lies 10-30 ms after touchdown, in the first ~10 % of stance",
a commonplace of secondary sources; no primary paper for that range was found (Clark et al. 2017
drive the model per stride with the lower limb's measured vertical acceleration during impact,
which the sacrum does not give), and it was not read from these trials. The other ``t1`` are
printed as a check, and any choice among them or among the variants is reported
leave-one-trial/slope/speed-out.

On a sloped treadmill the belt has a vertical velocity, ``-speed sin(slope)`` (up on a downhill
slope): the foot lands on it faster (downhill) or slower (uphill) than the body's own touchdown
velocity. The pipeline does not know the slope; the ``+belt`` rows add it from the trial's
metadata to show what knowing it would give (not a pipeline candidate).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2
from imuback.signal.activity import RUN
from imuback.signal.dsp import prefix_sum
from imuback.signal.metrics import spring_mass_peak_bw
from imuback.signal.session import analyse_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import match
from real_running import DEFAULT_DATA, T0_NS, Trial, load_trials, rmse

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

M1_SHARE = 0.08
"""Stance foot and shank, share of body mass (Clark 2017: m1 = 0.08 m_b)."""
T1_S = 0.025
"""Touchdown to the impact peak (m1 at rest), s: a round figure inside the 10-30 ms of secondary
sources (no primary source found; module doc)."""
T1_CHECK_S = (0.015, 0.020, 0.025, 0.030, 0.040)
N_GRID = 256
"""Points per contact at which F1 + F2 is evaluated for its maximum."""


def touchdown_velocity_mps(az_mps2: F64, fs_hz: float, ic_pos: F64, next_ic_pos: F64) -> F64:
    """(S,) vertical velocity (m/s, up +) at each IC relative to the step's mean vertical velocity.

    ``az_mps2`` (N,): body-frame vertical specific force (z up), m/s^2. The velocity since the
    IC is the running integral of ``az - g``; over a steady step the body's mean vertical
    velocity is 0, so the velocity at IC is minus the mean of that integral over [IC, next IC).
    """
    v = prefix_sum((az_mps2 - G_MPS2) / fs_hz)  # (N + 1,): velocity at sample k, up to a constant
    cv = prefix_sum(v)
    s = np.clip(np.round(ic_pos).astype(np.int64), 0, az_mps2.size)
    e = np.clip(np.round(np.nan_to_num(next_ic_pos, nan=-1.0)).astype(np.int64), 0, az_mps2.size)
    ok = e > s
    out = np.full(ic_pos.shape, np.nan)
    out[ok] = v[s[ok]] - (cv[e[ok]] - cv[s[ok]]) / (e[ok] - s[ok])
    return out


def two_mass_curves_bw(step_time_s: F64, contact_time_s: F64, dv1_mps: F64, *, t1_s: float = T1_S,
                       m1_share: float = M1_SHARE, active: str = "half-sine",
                       active_peak_bw: F64 | None = None) -> tuple[npt.NDArray[np.bool_], F64, F64, F64]:
    """The two impulses over each contact (module doc): ``(ok, tau_s, f1_bw, f2_bw)``.

    ``ok`` (S,): the steps with a model (the step's timing gives a spring-mass peak: a next step, a
    flight, a contact of at least 0.3 of the step; a finite ``dv1_mps``); ``tau_s`` (K, N_GRID):
    time since IC over each of the K such contacts; ``f1_bw``, ``f2_bw`` (K, N_GRID): the lower
    limb's and the rest of the body's force (BW). ``dv1_mps``: the lower limb's downward
    touchdown speed (m/s, >= 0 used). ``active``: the shape of ``F2``: "half-sine" or
    "raised-cosine" with impulse ``step_time - J1``; "given", "impact", "impact-only": a half-sine
    of peak ``active_peak_bw x (1 - J1 / step_time)`` (another estimate of the active peak, its
    impulse share J2 / J_total).
    """
    ok = np.isfinite(spring_mass_peak_bw(step_time_s, contact_time_s)) & np.isfinite(dv1_mps)
    T, tc, dv = step_time_s[ok], contact_time_s[ok], np.maximum(dv1_mps[ok], 0.0)
    a1 = 2.0 * m1_share * (dv / (G_MPS2 * t1_s) + 1.0)  # F1's peak (BW)
    j1 = a1 * t1_s  # raised cosine over 2 t1: area = peak x t1 (BW s)
    tau = np.linspace(0.0, 1.0, N_GRID)[None, :] * tc[:, None]
    f1 = np.where(tau <= 2 * t1_s, 0.5 * a1[:, None] * (1.0 - np.cos(np.pi * tau / t1_s)), 0.0)
    j2 = np.maximum(T - j1, 0.0)
    if active == "half-sine":
        f2 = (0.5 * np.pi * j2 / tc)[:, None] * np.sin(np.pi * tau / tc[:, None])
    elif active == "raised-cosine":
        f2 = (j2 / tc)[:, None] * (1.0 - np.cos(2 * np.pi * tau / tc[:, None]))
    elif active in ("given", "impact", "impact-only"):
        assert active_peak_bw is not None
        f2 = (active_peak_bw[ok] * j2 / T)[:, None] * np.sin(np.pi * tau / tc[:, None])
    else:
        raise ValueError(active)
    return ok, tau, f1, f2


def two_mass_peak_bw(step_time_s: F64, contact_time_s: F64, dv1_mps: F64, *, t1_s: float = T1_S,
                     m1_share: float = M1_SHARE, active: str = "half-sine", active_peak_bw: F64 | None = None) -> F64:
    """(S,) peak of ``F1 + F2`` (BW) over the contact (:func:`two_mass_curves_bw`); NaN where the
    step has no model.

    ``active`` as in :func:`two_mass_curves_bw`, and: "impact": the larger of ``active_peak_bw``
    and the "given" curve's maximum over the impact (the first ``2 t1``): today's active peak
    unchanged, the impact peak added where it is the larger; "impact-only": that maximum over the
    impact alone.
    """
    ok, tau, f1, f2 = two_mass_curves_bw(step_time_s, contact_time_s, dv1_mps, t1_s=t1_s, m1_share=m1_share,
                                         active=active, active_peak_bw=active_peak_bw)
    out = np.full(step_time_s.shape, np.nan)
    if not ok.any():
        return out
    if active in ("impact", "impact-only"):
        assert active_peak_bw is not None
        early = np.max(np.where(tau <= 2 * t1_s, f1 + f2, 0.0), axis=1)
        out[ok] = np.maximum(active_peak_bw[ok], early) if active == "impact" else early
    else:
        out[ok] = np.max(f1 + f2, axis=1)
    return out


@dataclass(frozen=True)
class Matched:
    """Per matched running step (IC within 60 ms of a force-plate IC), over every trial."""

    trial: I64
    ref_peak_bw: F64
    impact: npt.NDArray[np.bool_]
    pipeline_bw: F64
    """0.12.0's estimate (the 8 Hz sacral peak blended 0.7 / 0.3 with the spring-mass peak)."""
    sacral_bw: F64
    """0.12.0's estimate at spring-mass weight 0: the 8 Hz sacral peak alone."""
    step_time_s: F64
    contact_time_s: F64
    v_td_mps: F64
    belt_vz_mps: F64
    """The belt's vertical velocity (up +): -speed sin(slope)."""


def needed_dv1_mps(m: Matched, t1_s: float) -> F64:
    """(S,) the touchdown speed dV1 for which the "given" two-mass curve's maximum over the impact
    (the first ``2 t1``) equals the force plate's peak (bisection, vectorized over steps; NaN
    where none up to 10 m/s)."""
    lo, hi = np.zeros(m.trial.size), np.full(m.trial.size, 10.0)

    def impact_max(dv: F64) -> F64:
        return two_mass_peak_bw(m.step_time_s, m.contact_time_s, dv, t1_s=t1_s, active="impact-only",
                                active_peak_bw=m.pipeline_bw)

    f_hi = impact_max(hi)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        up = ~(impact_max(mid) >= m.ref_peak_bw)  # NaN (no model) counts as below
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return np.where(np.isfinite(f_hi) & (f_hi >= m.ref_peak_bw), 0.5 * (lo + hi), np.nan)


def collect(trials: list[Trial]) -> Matched:
    """Run the pipeline on every trial; gather what each model needs per matched step."""
    from imuback.signal.params import MetricParams, PipelineParams

    cols: dict[str, list[F64]] = {k: [] for k in Matched.__dataclass_fields__}
    sacral_params = PipelineParams(metrics=MetricParams(grf_spring_mass_weight=0.0))
    for k, t in enumerate(trials):
        a = analyse_session(t.raw)
        a0 = analyse_session(t.raw, params=sacral_params)
        st, sm = a.steps, a.step
        ic_s = (a.times_ns(st.ic_pos) - T0_NS) / 1e9
        ei, ri = match(ic_s, t.ref_ic_s, 0.06)
        # every matched step, as real_running.py scores them; the model needs a running step with
        # a next step in its chain (the others keep 0.12.0's estimate)
        nxt = np.where((st.activity == RUN) & st.has_next(), np.append(st.ic_pos[1:], np.nan), np.nan)
        v_td = touchdown_velocity_mps(a.body.acc_mps2[:, 2].astype(np.float64), a.body.fs_hz, st.ic_pos, nxt)
        cols["trial"].append(np.full(ei.size, k))
        cols["ref_peak_bw"].append(t.ref_peak_bw[ri])
        cols["impact"].append(t.ref_impact_peak[ri])
        cols["pipeline_bw"].append(sm.grf_peak_bw[ei])
        cols["sacral_bw"].append(a0.step.grf_peak_bw[ei])
        cols["step_time_s"].append(sm.step_time_s[ei])
        cols["contact_time_s"].append(sm.contact_time_s[ei])
        cols["v_td_mps"].append(v_td[ei])
        cols["belt_vz_mps"].append(np.full(ei.size, -t.speed_mps * np.sin(np.radians(t.slope_deg))))
    return Matched(**{k: np.concatenate(v) for k, v in cols.items()})  # type: ignore[arg-type]


def groups(trials: list[Trial]) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """(name, per-trial mask) for each speed, each slope, and all."""
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    return ([(f"{v:.2f} m/s", speed == v) for v in np.unique(speed)]
            + [(f"{v:+.0f} deg", slope == v) for v in np.unique(slope)]
            + [("all", np.ones(len(trials), dtype=bool))])


def row(name: str, est: F64, m: Matched) -> str:
    """RMSE all / active-peak / impact-peak steps, bias, for one estimate (steps without one keep
    the pipeline's)."""
    e = np.where(np.isfinite(est), est, m.pipeline_bw) - m.ref_peak_bw
    imp = m.impact
    return (f"{name:<34}{rmse(e):.3f} / {rmse(e[~imp]):.3f} / {rmse(e[imp]):.3f} BW   bias {np.mean(e):+.3f} "
            f"(active {np.mean(e[~imp]):+.3f}, impact {np.mean(e[imp]):+.3f})")


def by_group(trials: list[Trial], ests: dict[str, F64], m: Matched) -> list[str]:
    """RMSE of each estimate per speed and slope group."""
    gs = groups(trials)
    lines = [f"{'estimate':<34}" + "".join(f"{g:>10}" for g, _ in gs)]
    for name, est in ests.items():
        e = np.where(np.isfinite(est), est, m.pipeline_bw) - m.ref_peak_bw
        lines.append(f"{name:<34}" + "".join(f"{rmse(e[sel[m.trial]]):>10.3f}" for _, sel in gs))
    return lines


def held_out(trials: list[Trial], cands: dict[str, F64], m: Matched) -> list[str]:
    """Leave one trial / slope / speed out: the candidate with the smallest RMSE on the other
    trials, reported on the left-out ones."""
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    err = {k: np.where(np.isfinite(v), v, m.pipeline_bw) - m.ref_peak_bw for k, v in cands.items()}
    lines = []
    for name, group in (("trial", np.arange(len(trials))), ("slope", slope), ("speed", speed)):
        held, picks = [], []
        for v in np.unique(group):
            out = np.isin(m.trial, np.flatnonzero(group == v))
            best = min(err, key=lambda c: rmse(err[c][~out]))
            held.append(err[best][out])
            picks.append(f"{v:g}: {best} {rmse(err[best][out]):.3f}")
        h = np.concatenate(held)
        lines.append(f"leave one {name} out: held-out RMSE {rmse(h):.3f} BW (bias {np.mean(h):+.3f})")
        if name != "trial":
            lines.append("    " + "; ".join(picks))
        else:
            names = [p.split(": ")[1].rsplit(" ", 1)[0] for p in picks]
            lines.append("    picked: " + ", ".join(f"{c} x{names.count(c)}" for c in sorted(set(names))))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    root = args.data / "real" / "alcantara_treadmill"
    if not root.exists():
        print(f"alcantara_treadmill: skipped ({root} not found)")
        return 0
    trials = load_trials(root)
    m = collect(trials)
    dv_body = -m.v_td_mps
    dv_belt = dv_body + m.belt_vz_mps
    spring = spring_mass_peak_bw(m.step_time_s, m.contact_time_s)
    tm: Callable[..., F64] = two_mass_peak_bw
    print(f"# {m.trial.size} matched running steps, {int(m.impact.sum())} whose force maximum is the impact peak")
    print("# body's touchdown velocity from the sacrum (m/s, down -), by group: mean ± SD; "
          "impact-peak steps / others")
    for g, sel in groups(trials):
        s = sel[m.trial]
        print(f"  {g:<10} {np.nanmean(m.v_td_mps[s]):+.2f} ± {np.nanstd(m.v_td_mps[s]):.2f}   "
              f"belt vz {np.mean(m.belt_vz_mps[s]):+.2f}   impact-peak {int(m.impact[s].sum()):>3} of {int(s.sum())}")
    imp, fin = m.impact, np.isfinite(m.v_td_mps)  # no touchdown velocity: no next step in the chain
    print(f"  v_td on impact-peak steps {np.nanmean(m.v_td_mps[imp]):+.2f}, "
          f"on the others {np.nanmean(m.v_td_mps[~imp]):+.2f}; "
          f"r(v_td, ref peak) {np.corrcoef(m.v_td_mps[fin], m.ref_peak_bw[fin])[0, 1]:+.2f} "
          f"over the {int(fin.sum())} steps with a v_td")
    print()
    ests: dict[str, F64] = {
        "0.12.0 (sacral 0.7 + spring 0.3)": m.pipeline_bw,
        "sacral 8 Hz alone": m.sacral_bw,
        "spring-mass half-sine alone": spring,
        "2-mass half-sine": tm(m.step_time_s, m.contact_time_s, dv_body),
        "2-mass raised cosine (Clark)": tm(m.step_time_s, m.contact_time_s, dv_body, active="raised-cosine"),
        "2-mass on 0.12.0's active": tm(m.step_time_s, m.contact_time_s, dv_body, active="given",
                                        active_peak_bw=m.pipeline_bw),
        "2-mass impact added to 0.12.0": tm(m.step_time_s, m.contact_time_s, dv_body, active="impact",
                                            active_peak_bw=m.pipeline_bw),
        "2-mass half-sine +belt": tm(m.step_time_s, m.contact_time_s, dv_belt),
        "2-mass on 0.12.0's active +belt": tm(m.step_time_s, m.contact_time_s, dv_belt, active="given",
                                              active_peak_bw=m.pipeline_bw),
        "2-mass impact added +belt": tm(m.step_time_s, m.contact_time_s, dv_belt, active="impact",
                                        active_peak_bw=m.pipeline_bw),
    }
    print(f"# peak vGRF, t1 = {1e3 * T1_S:.0f} ms, m1 = {M1_SHARE:.2f} m_b: RMSE all / active-peak / impact-peak steps")
    for k, v in ests.items():
        print(row(k, v, m))
    print()
    print("# RMSE (BW) by group")
    print("\n".join(by_group(trials, ests, m)))
    print()
    print("# t1 (touchdown to the impact peak) as a check; RMSE all / active-peak / impact-peak steps")
    cands: dict[str, F64] = {}
    for t1 in T1_CHECK_S:
        for act, lab in (("half-sine", "half-sine"), ("given", "on 0.12.0"), ("impact", "added")):
            est = tm(m.step_time_s, m.contact_time_s, dv_body, t1_s=t1, active=act, active_peak_bw=m.pipeline_bw)
            cands[f"{lab} t1 {1e3 * t1:.0f}"] = est
            print(row(f"2-mass {lab} t1 {1e3 * t1:.0f} ms", est, m))
    print()
    print("# the lower limb's touchdown speed that would put F1 + F2 over the impact at the force plate's peak, "
          f"t1 = {1e3 * T1_S:.0f} ms")
    print("# (F2: 0.12.0's active peak x J2 / J_total as a half-sine), against the body's from the sacrum; "
          "impact-peak steps")
    need = needed_dv1_mps(m, T1_S)
    for g, sel in groups(trials):
        s_ = sel[m.trial] & m.impact & np.isfinite(need)
        if s_.any():
            print(f"  {g:<10} steps {int(s_.sum()):>3}   needed {np.median(need[s_]):.2f} m/s (median)   body "
                  f"{np.median(dv_body[s_]):.2f}   body + belt {np.median(dv_belt[s_]):.2f}   "
                  f"ratio needed / body {np.median(need[s_] / dv_body[s_]):.1f}")
    print()
    print("# held out: each fold picks among 0.12.0 and the 2-mass candidates above (t1 x active part)")
    print("\n".join(held_out(trials, {"0.12.0": m.pipeline_bw, **cands}, m)))
    print("# held out: 0.12.0 alone (no choice)")
    print("\n".join(held_out(trials, {"0.12.0": m.pipeline_bw}, m)[::2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
