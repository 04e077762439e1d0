"""Clipped (saturated) accelerometer samples: which rows, which steps, and the session summaries."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from imuback.core import G_MPS2, RawSession
from imuback.pipeline import SessionTables, process_raw
from imuback.signal.clipping import censored, censored_median
from imuback.signal.summary import drift
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

T0 = 1_600_000_000 * 10**9


@cache
def _asymmetric_run() -> RawSession:
    # the right foot lands ~14 % harder: clipping at 3 g takes more right contacts than left
    return simulate_session(RunnerParams(run_minutes=6, impact_asymmetry_pct=-14.0), seed=1,
                            session_id="asym", runner_id="r", start_time=T0).raw


def _clip(raw: RawSession, range_g: float, *, declared: float | None) -> RawSession:
    lim = np.float32(range_g * G_MPS2)
    return dataclasses.replace(raw, acc_mps2=np.clip(raw.acc_mps2, -lim, lim), acc_range_g=declared)


@cache
def _processed(range_g: float | None) -> SessionTables:
    raw = _asymmetric_run()
    return process_raw(raw if range_g is None else _clip(raw, range_g, declared=range_g))


def test_partial_clipping_keeps_the_session_impact_medians_and_asymmetry():
    truth, clipped = _processed(None).summary, _processed(3.0).summary
    st = _processed(3.0).steps.to_pandas().query("activity == 'run'")
    nulled = st.groupby("foot")["impact_peak_g"].apply(lambda x: x.isna().mean())
    assert 0.05 < nulled["R"] < 0.5 and nulled["R"] > nulled["L"]  # the case: partial, one-sided
    for key in ("median_impact_peak_g", "left_impact_peak_g", "right_impact_peak_g",
                "median_loading_rate_g_per_s"):
        assert clipped[key] == pytest.approx(truth[key], rel=0.01), key
    assert abs(clipped["asymmetry_impact_peak_pct"] - truth["asymmetry_impact_peak_pct"]) < 0.5


def test_mostly_clipped_impacts_have_no_session_median():
    s = _processed(2.0).summary
    for key in ("median_impact_peak_g", "left_impact_peak_g", "asymmetry_impact_peak_pct",
                "median_loading_rate_g_per_s"):
        assert s[key] is None or np.isnan(s[key]), key
    assert s["median_grf_peak_bw"] is not None  # from the steps' timing


def test_censored_median_counts_clipped_values_as_the_largest():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])
    clip = np.array([False, False, False, True, True, False])
    assert censored_median(censored(x, clip)) == 3.0  # 2 of 5 censored: exact
    assert np.isnan(censored_median(censored(x, np.array([False, False, True, True, True, False]))))
    assert censored_median(censored(x, None)) == 3.0
    assert np.isnan(censored_median(np.array([np.nan])))


def test_drift_treats_clipped_values_as_the_largest_of_their_minute():
    rng = np.random.default_rng(0)
    t = np.repeat(np.arange(20.0), 100) + rng.uniform(0, 1, 2000)
    v = 3.0 + 0.01 * t + rng.normal(0, 0.2, t.size)  # +3.3 % over the late vs early windows
    base = drift(t, v, baseline=(2.0, 10.0), late_min=10.0)
    clip = v > np.quantile(v, 0.8)
    got = drift(t, np.where(clip, np.inf, v), baseline=(2.0, 10.0), late_min=10.0)
    dropped = drift(t, np.where(clip, np.nan, v), baseline=(2.0, 10.0), late_min=10.0)
    assert got == pytest.approx(base)  # per-minute medians unchanged: < half of each minute clipped
    assert abs(dropped[1] - base[1]) > 0.1  # leaving them out would bias it
    all_late = np.where(clip | (t >= 10.0), np.inf, v)
    assert np.isnan(drift(t, all_late, baseline=(2.0, 10.0), late_min=10.0)[1])
