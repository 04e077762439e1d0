"""Braking and side-specific pelvic drop: known answers on analytic sessions (x forward, y left, z up)."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.pipeline import process_raw
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
