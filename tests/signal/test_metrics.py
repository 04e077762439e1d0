"""Braking and side-specific pelvic drop: known answers on analytic sessions (x forward, y left, z up)."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.pipeline import process_raw
from imuback.signal.events import Steps
from imuback.signal.metrics import _roll_bias_deg_per_sample
from tests.signal.analytic import half_sine_run


def _run_steps(**kwargs: object):
    raw, truth = half_sine_run(minutes=2.0, **kwargs)  # type: ignore[arg-type]
    st = process_raw(raw).steps.to_pandas()
    return st[st["activity"] == "run"], truth


def test_braking_peak_and_impulse_match_the_brake_then_push_contact() -> None:
    run, truth = _run_steps(mounting_err_deg=(20.0, 15.0))
    # the contact brakes at 0.5 g peak then pushes; the 8 Hz low-pass (the CoM's deceleration)
    # rounds the peak of this 4 Hz sine off by a few %
    assert run["braking_peak_g"].median() == pytest.approx(truth["braking_peak_g"], rel=0.12)
    assert run["braking_impulse_mps"].median() == pytest.approx(truth["braking_impulse_mps"], rel=0.10)
    assert run["braking_peak_g"].notna().mean() > 0.95


@pytest.mark.parametrize("drop_deg", [3.0, 8.0])
def test_pelvic_drop_is_the_swing_sides_fall_in_each_stance(drop_deg: float) -> None:
    run, _ = _run_steps(drop_deg=drop_deg)
    by_foot = run.groupby("foot")["pelvic_drop_deg"].median()
    assert set(by_foot.index) == {"L", "R"}
    assert by_foot["L"] == pytest.approx(drop_deg, rel=0.05)
    assert by_foot["R"] == pytest.approx(drop_deg, rel=0.05)


def test_a_one_sided_drop_shows_on_that_side_only() -> None:
    # roll rises in left stance only (the right side drops), stays level in right stance
    raw, _ = half_sine_run(minutes=2.0, drop_deg=6.0)
    t = (raw.time_ns - raw.time_ns[0]) / 1e9
    right_stance = (t // 0.36).astype(int) % 2 == 0
    gyr = raw.gyr_dps.copy()
    gyr[right_stance, 0] = 0.0
    from dataclasses import replace
    st = process_raw(replace(raw, gyr_dps=gyr)).steps.to_pandas()
    by_foot = st[st["activity"] == "run"].groupby("foot")["pelvic_drop_deg"].median()
    assert by_foot["L"] == pytest.approx(6.0, rel=0.05)
    assert by_foot["R"] < 0.5


def test_without_a_gyroscope_there_is_no_pelvic_drop() -> None:
    run, _ = _run_steps(gyro=False)
    assert run["pelvic_drop_deg"].isna().all()
    assert np.isfinite(run["braking_peak_g"]).mean() > 0.95


def test_peak_vgrf_blends_the_sacral_peak_with_the_spring_mass_peak_of_the_timing() -> None:
    # the sacrum over-reads the CoM's force during contact (soft tissue, not the CoM): here by a
    # constant 0.3 g while the foot is on the ground. The sacral peak carries all of it; the
    # spring-mass peak (pi / 2) step / contact only through the contact time (the toe-off model
    # reads the higher peak as a longer contact), the other way
    from dataclasses import replace

    from imuback.core import G_MPS2
    from imuback.signal.params import MetricParams, PipelineParams

    clean, truth = half_sine_run(minutes=1.0)
    t = (clean.time_ns - clean.time_ns[0]) / 1e9
    acc = clean.acc_mps2.copy()
    acc[(t % truth["step_s"]) < truth["contact_s"], 2] += 0.3 * G_MPS2
    over = replace(clean, acc_mps2=acc)

    def err(raw: object, weight: float) -> float:
        pp = PipelineParams(metrics=MetricParams(grf_spring_mass_weight=weight))
        run = process_raw(raw, params=pp).steps.to_pandas().query("activity == 'run'")  # type: ignore[arg-type]
        return float(run["grf_peak_bw"].median() - truth["peak_bw"])

    for w in (0.0, 0.5, 1.0):  # exact half-sines: every weight gives the peak
        assert abs(err(clean, w)) < 0.02
    sacral, blended, timing = err(over, 0.0), err(over, 0.5), err(over, 1.0)
    assert sacral == pytest.approx(0.3, abs=0.05)
    assert -0.25 < timing < 0.0
    assert blended == pytest.approx((sacral + timing) / 2, abs=0.01)  # the estimate is linear in w
    w = MetricParams().grf_spring_mass_weight
    assert w == 0.3
    assert err(over, w) == pytest.approx((1 - w) * sacral + w * timing, abs=0.01)
    assert abs(err(over, w)) < 0.6 * abs(sacral)


def test_steps_without_a_flight_or_a_next_step_keep_the_sacral_peak() -> None:
    from imuback.signal.metrics import _spring_mass_blend

    sacral = np.array([2.0, 2.0, 2.0, 2.0])
    step_s = np.array([0.36, np.nan, 0.24, 0.36])
    contact_s = np.array([0.24, 0.24, 0.30, 0.24])  # no next step; contact longer than the step
    out = _spring_mass_blend(sacral, step_s, contact_s, 0.5)
    assert out[0] == pytest.approx(0.5 * 2.0 + 0.5 * (np.pi / 2) * 0.36 / 0.24)
    assert out[1] == 2.0 and out[2] == 2.0
    assert _spring_mass_blend(sacral, step_s, contact_s, 0.0)[0] == 2.0
    # a contact under 0.3 of its step (a misplaced edge) would give a half-sine peak over 5.2 BW
    short = _spring_mass_blend(np.array([2.2, 2.2]), np.array([0.34, 0.34]), np.array([0.05, 0.2]), 0.3)
    assert short[0] == 2.2 and short[1] == pytest.approx(0.7 * 2.2 + 0.3 * (np.pi / 2) * 0.34 / 0.2)


def test_stride_metrics_do_not_depend_on_how_the_strides_are_chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    # the strides are read in chunks to bound memory: any chunk size gives the same bits
    import imuback.signal.metrics as metrics
    from imuback.signal.session import analyse_session

    raw, _ = half_sine_run(minutes=2.0, drop_deg=4.0)
    whole = analyse_session(raw).stride
    monkeypatch.setattr(metrics, "_CHUNK", 7)
    chunked = analyse_session(raw).stride
    assert whole.first_step.size > 100
    for name in whole.__dataclass_fields__:
        assert np.array_equal(getattr(whole, name), getattr(chunked, name), equal_nan=True), name


@pytest.mark.parametrize("bias_dps", [-5.0, 3.0])
def test_a_gyro_bias_does_not_make_the_pelvic_drop_asymmetric(bias_dps: float) -> None:
    # a consumer gyro's constant bias about x integrates over each stance: without removing it
    # (the stride's mean roll rate) one side's drop grows and the other's shrinks (5 deg/s: 5.4
    # vs 4.2 deg for a true 4.8 on both), a false left/right asymmetry
    from dataclasses import replace

    raw, _ = half_sine_run(minutes=2.0, drop_deg=5.0)
    clean = process_raw(raw).steps.to_pandas()
    biased = process_raw(replace(raw, gyr_dps=raw.gyr_dps + np.float32(bias_dps) * np.eye(3, dtype=np.float32)[0]))
    b = biased.steps.to_pandas()
    for st in (clean, b):
        assert (st["activity"] == "run").sum() > 300
    by_foot = b[b["activity"] == "run"].groupby("foot")["pelvic_drop_deg"].median()
    ref = clean[clean["activity"] == "run"].groupby("foot")["pelvic_drop_deg"].median()
    assert abs(by_foot["L"] - by_foot["R"]) < 0.05
    assert by_foot["L"] == pytest.approx(ref["L"], abs=0.05)
    assert by_foot["R"] == pytest.approx(ref["R"], abs=0.05)


def _chained_steps(chains: list[int], *, step_samples: float = 36.0) -> Steps:
    chain = np.repeat(np.arange(len(chains)), chains).astype(np.int64)
    n = chain.size
    ic = np.arange(n) * step_samples + 10.0
    return Steps(ic_pos=ic, to_pos=ic + 24.0, activity=np.zeros(n, np.int8), chain=chain,
                 foot=(np.arange(n) % 2).astype(np.int8), quality=np.ones(n))


@pytest.mark.parametrize("chains", [[40], [3], [3, 40, 4]])
def test_the_roll_bias_is_found_at_chain_ends_and_in_short_chains(chains: list[int]) -> None:
    # a constant 0.05 deg/sample bias on a pelvis that rolls periodically over each stride
    steps = _chained_steps(chains)
    n = int(steps.ic_pos[-1] + 100)
    t = np.arange(n + 1, dtype=np.float64)
    roll = 0.05 * t + 3.0 * np.sin(2 * np.pi * t / 72.0)
    got = _roll_bias_deg_per_sample(roll, steps)
    assert got == pytest.approx(np.full(steps.n, 0.05), abs=1e-3)


def test_one_turning_stride_does_not_move_the_roll_bias_of_its_neighbours() -> None:
    steps = _chained_steps([40])
    n = int(steps.ic_pos[-1] + 100)
    t = np.arange(n + 1, dtype=np.float64)
    roll = 3.0 * np.sin(2 * np.pi * t / 72.0)
    roll += np.clip(t - steps.ic_pos[20], 0.0, 72.0) * 0.1  # the pelvis ends one stride 7.2 deg off
    got = _roll_bias_deg_per_sample(roll, steps)
    assert np.abs(got).max() < 0.01  # one stride of 21 in the median: not taken for a bias


def test_a_two_step_chain_has_no_roll_bias_estimate() -> None:
    steps = _chained_steps([2, 40])
    t = np.arange(int(steps.ic_pos[-1] + 100) + 1, dtype=np.float64)
    got = _roll_bias_deg_per_sample(0.05 * t + 3.0 * np.sin(2 * np.pi * t / 72.0), steps)
    assert got[:2].tolist() == [0.0, 0.0]  # one step and its next: no stride to average over
    assert got[2:] == pytest.approx(np.full(40, 0.05), abs=1e-3)


def test_a_step_without_a_contact_has_no_braking() -> None:
    """Walking steps have no TO, so no contact to read braking in: null, not the one sample at IC
    (the audit: a walking session reported "Braking (peak deceleration) -0.13 g", "0.000 m/s")."""
    from imuback.simulate.runner import RunnerParams, simulate_session

    sim = simulate_session(RunnerParams(run_minutes=0.5), seed=2024, session_id="s1", runner_id="r1",
                           start_time=0)
    st = process_raw(sim.raw).steps.to_pandas()
    walk, run = st[st["activity"] == "walk"], st[st["activity"] == "run"]
    assert len(walk) > 20 and walk["to_time"].isna().all()
    assert walk["braking_peak_g"].isna().all() and walk["braking_impulse_mps"].isna().all()
    assert run["braking_peak_g"].notna().mean() > 0.95 and run["braking_impulse_mps"].notna().mean() > 0.95
