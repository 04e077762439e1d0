"""A runner's multi-week history: sessions across weeks with a story for the trends report.

The story (on by default): every run has fatigue drift (contact time, impact, pelvis motion and
lateral sway rise over the run, as in :class:`RunnerParams`); in the last ``story_weeks`` weeks a
right/left impact asymmetry develops (the right side lands harder), the impact transient rises and
the right contact lengthens a little — the pattern a PT looks for when low back pain starts.
Day-to-day variation: cadence, contact time and pelvis ranges vary a little between sessions, the
sensor is re-clipped every session (a new random misalignment) and radio gaps fall elsewhere.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np

from imuback.errors import SimulationError
from imuback.simulate.runner import RunnerParams, SimulatedSession, simulate_session

DEFAULT_STUDY_START = datetime(2024, 3, 4, 7, 0, tzinfo=UTC)
_DEFAULT_PARAMS = RunnerParams()
"""A Monday morning; sessions are placed from here on."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StoryParams:
    """How the runner changes over the last weeks (values reached in the final session).

    Sizes are chosen above the smallest real changes (0.28 BW, 32 ms; DOMAIN.md) so a trends
    report can flag them, and within what injured runners show (asymmetry 5-15 %).
    """

    story_weeks: int = 2
    impact_asymmetry_pct: float = -14.0  # 100 (L - R) / mean: negative = right lands harder
    impact_rise_pct: float = 20.0
    contact_asymmetry_pct: float = -4.0  # right contact longer
    fatigue_impact_extra_pct: float = 10.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSession:
    """One session of a study before it is simulated."""

    session_id: str
    start_time: datetime
    params: RunnerParams
    seed: int


def plan_study(*, runner_id: str, weeks: int, sessions_per_week: int, minutes: float, seed: int,
               params: RunnerParams = _DEFAULT_PARAMS, story: bool = True,
               story_params: StoryParams | None = None,
               start: datetime = DEFAULT_STUDY_START) -> list[PlannedSession]:
    """The ``weeks x sessions_per_week`` sessions of :func:`simulate_study`, not yet simulated.

    The story's progress reaches its full size in the last planned session, so a caller that
    plans one more session than it simulates from the plan's history (the demo's "today") gets a
    session that continues the story.
    """
    if weeks < 1 or sessions_per_week < 1 or sessions_per_week > 7:
        raise SimulationError(f"simulate_study: weeks ({weeks}) must be >= 1 and sessions_per_week "
                              f"({sessions_per_week}) within 1-7")
    if start.tzinfo is None:
        raise SimulationError("simulate_study: start must be timezone-aware (UTC)")
    sp = story_params if story_params is not None else StoryParams()
    rng = np.random.default_rng(seed)
    n_total = weeks * sessions_per_week
    seeds = rng.integers(0, 2**31 - 1, size=n_total)
    day_offsets = np.floor(np.arange(sessions_per_week) * 7.0 / sessions_per_week).astype(int)
    story_start = max(0, weeks - sp.story_weeks) * sessions_per_week
    out: list[PlannedSession] = []
    for i in range(n_total):  # one planned session per iteration
        week, slot = divmod(i, sessions_per_week)
        when = (start + timedelta(days=7 * week + int(day_offsets[slot]),
                                  minutes=float(rng.uniform(-30, 90))))
        # day-to-day variation
        p = dataclasses.replace(
            params,
            run_minutes=float(minutes),
            cadence_spm=float(params.cadence_spm + rng.normal(0, 2.0)),
            contact_time_s=float(params.contact_time_s * (1 + rng.normal(0, 0.02))),
            pelvis_rotation_deg=float(params.pelvis_rotation_deg * (1 + rng.normal(0, 0.04))),
            pelvis_obliquity_deg=float(params.pelvis_obliquity_deg * (1 + rng.normal(0, 0.04))),
        )
        if story and i >= story_start and n_total > story_start:
            prog = (i - story_start + 1) / (n_total - story_start)
            p = dataclasses.replace(
                p,
                impact_asymmetry_pct=p.impact_asymmetry_pct + prog * sp.impact_asymmetry_pct,
                impact_transient_bw=p.impact_bw * (1 + prog * sp.impact_rise_pct / 100.0),
                contact_asymmetry_pct=p.contact_asymmetry_pct + prog * sp.contact_asymmetry_pct,
                fatigue_impact_pct=p.fatigue_impact_pct + prog * sp.fatigue_impact_extra_pct,
            )
        out.append(PlannedSession(session_id=f"{runner_id}-{when:%Y%m%d}-{i:02d}", start_time=when,
                                  params=p, seed=int(seeds[i])))
    return out


def simulate_planned(plan: PlannedSession, *, runner_id: str) -> SimulatedSession:
    """Simulate one planned session."""
    return simulate_session(plan.params, seed=plan.seed, session_id=plan.session_id,
                            runner_id=runner_id, start_time=plan.start_time)


def simulate_study(*, runner_id: str, weeks: int, sessions_per_week: int, minutes: float, seed: int,
                   params: RunnerParams = _DEFAULT_PARAMS, story: bool = True,
                   story_params: StoryParams | None = None,
                   start: datetime = DEFAULT_STUDY_START,
                   max_sessions: int | None = None) -> list[SimulatedSession]:
    """Simulate ``weeks x sessions_per_week`` sessions of one runner.

    Parameters
    ----------
    runner_id : the runner (letters, digits, ``._-``).
    weeks, sessions_per_week : schedule; sessions are spread evenly over each week, mornings.
    minutes : running minutes per session (``RunnerParams.run_minutes``).
    seed : one seed for the whole study; each session gets its own derived seed.
    params : the runner's baseline knobs (the story and day-to-day variation modify a copy).
    story : apply the story over the last weeks.
    story_params : its sizes (default :class:`StoryParams()`).
    start : UTC datetime of the first week's Monday morning.
    max_sessions : stop after this many sessions (the CLI's ``--sessions``).

    Returns
    -------
    Sessions in time order; session ids are ``<runner>-<YYYYmmdd>-<nn>``.
    """
    plan = plan_study(runner_id=runner_id, weeks=weeks, sessions_per_week=sessions_per_week,
                      minutes=minutes, seed=seed, params=params, story=story,
                      story_params=story_params, start=start)
    if max_sessions is not None:
        plan = plan[:max_sessions]
    return [simulate_planned(ps, runner_id=runner_id) for ps in plan]
