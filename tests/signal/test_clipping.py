"""Clipped (saturated) accelerometer samples: which rows, which steps, and the session summaries."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from imuback.core import G_MPS2, RawSession
from imuback.pipeline import SessionTables, process_raw
from imuback.signal.clipping import (
    BAND_G,
    MIN_EXCURSIONS,
    PILE_RATIO,
    censored,
    censored_median,
    clipped_on_grid,
    clipped_rows,
    peaks_without_clipping,
)
from imuback.signal.metrics import StepMetrics
from imuback.signal.summary import drift
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session
from tests.signal.analytic import half_sine_run

T0 = 1_600_000_000 * 10**9
FS = 500.0


def _rows(acc_g: np.ndarray, *, range_g: float | None = None) -> np.ndarray | None:
    a = (np.asarray(acc_g, dtype=np.float64) * G_MPS2).astype(np.float32)
    t_ns = T0 + (np.arange(a.shape[0]) * (1e9 / FS)).astype(np.int64)
    return clipped_rows(a, acc_range_g=range_g, acc_extremes=(float(a.max()), float(a.min())), time_ns=t_ns)


def _contacts(peaks_g: list[float], *, lsb_g: float | None = None, level_g: float | None = None) -> np.ndarray:
    """(N, 3) in g: one broad 0.25 s hump a step (0.36 s) on z, x and y at 0; quantised to
    ``lsb_g`` and clipped at ``level_g``.
    """
    ph = np.arange(int(0.36 * FS)) / FS
    hump = np.where(ph < 0.25, np.sin(np.pi * ph / 0.25), 0.0)
    z = np.concatenate([p * hump for p in peaks_g])
    if lsb_g is not None:
        z = np.round(z / lsb_g) * lsb_g
    if level_g is not None:
        z = np.minimum(z, level_g)
    return np.column_stack([np.zeros_like(z), np.zeros_like(z), z])


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


def test_a_level_held_in_separate_contacts_is_a_clip():
    assert _rows(_contacts([3.0] * 20, level_g=2.5)) is not None
    got = _rows(_contacts([3.0] * 3 + [1.0] * 10, level_g=2.5))
    assert got is not None and got.sum() > 10
    # the same flat level in two contacts: a tie at the top, not a clip
    assert _rows(_contacts([3.0] * 2 + [1.0] * 10, level_g=2.5)) is None
    # one long flat stretch (1 s, a single excursion) is not a clip either
    long_flat = np.column_stack([np.zeros(1000), np.zeros(1000), np.full(1000, 2.5)])
    assert _rows(np.vstack([long_flat, _contacts([1.0] * 10)])) is None


def test_a_quantised_unclipped_top_is_not_a_clip():
    # a forefoot runner's broad peaks, stored at 0.01 g: neighbours of the maximum share its
    # value in one contact (the old rule, 3 equal samples, called it clipped)
    peaks = 2.5 + 0.2 * np.random.default_rng(0).uniform(size=200)
    assert _rows(_contacts(list(peaks), lsb_g=0.01)) is None
    # 62.5 mg steps: the top level is hit in many contacts, but the level below holds more
    coarse = _contacts(list(peaks - 0.2), lsb_g=0.0625)
    top = coarse[:, 2] == coarse[:, 2].max()
    assert np.count_nonzero(np.diff(np.flatnonzero(top)) > FS * 0.1) + 1 >= MIN_EXCURSIONS
    assert _rows(coarse) is None


@pytest.mark.parametrize("lsb_g", [None, 0.01])
def test_a_clip_among_most_contacts_peaks_is_found(lsb_g):
    # review 21: a simulated rearfoot run clipped at 2.5 g, where most contacts pass through or
    # top out just under the level; the whole 0.1 g band below outnumbered the clip (0 flagged)
    raw = simulate_session(RunnerParams(run_minutes=3, quantize=False, acc_range_g=64.0), seed=0,
                           session_id="c", runner_id="r", start_time=T0).raw
    a = raw.acc_mps2.astype(np.float64) / G_MPS2
    if lsb_g is not None:
        a = np.round(a / lsb_g) * lsb_g
    lim = np.float32(2.5 * G_MPS2)
    acc = np.clip((a * G_MPS2).astype(np.float32), -lim, lim)
    z = acc[:, 2]
    near = (z < lim) & (z >= lim - np.float32(0.1 * G_MPS2))
    assert np.count_nonzero(near) > np.count_nonzero(z == lim)  # the band outnumbers the clip
    rows = clipped_rows(acc, acc_range_g=None, acc_extremes=(float(acc.max()), float(acc.min())),
                        time_ns=raw.time_ns)
    assert rows is not None
    assert rows[z == lim].all() and rows.sum() == np.count_nonzero(np.abs(acc) == lim)


def test_an_unclipped_coarse_top_a_little_above_the_level_below_is_not_a_clip():
    # 8-bit at ±8 g (62.5 mg): four contacts peak on 2.5 g, which then holds 1.2 x the samples
    # of 2.4375 g (the whole-band rule called it clipped); a clip piles up PILE_RATIO x or more
    z = _contacts([2.5] * 4 + [1.0] * 5, lsb_g=0.0625)
    top, next_down = np.count_nonzero(z[:, 2] == 2.5), np.count_nonzero(z[:, 2] == 2.4375)
    assert next_down < top < PILE_RATIO * next_down
    assert _rows(z) is None
    assert _rows(_contacts([3.0] * 4 + [1.0] * 5, lsb_g=0.0625, level_g=2.5)) is not None


def test_a_flat_level_below_the_smallest_range_is_not_a_clip():
    assert _rows(_contacts([2.0] * 20, level_g=1.85)) is None  # no ±1.85 g part: a flat walking top
    assert _rows(_contacts([2.0] * 20, level_g=1.92)) is not None  # a ±2 g part calibrated 4 % low


def test_a_long_flat_clip_outweighs_the_band_below():
    z = _contacts([4.0] * 20, level_g=2.0)
    rows = _rows(z)
    assert rows is not None
    assert rows.sum() == np.count_nonzero(z[:, 2] == z[:, 2].max())
    assert BAND_G > 0.0


def test_declared_range_flags_a_sample_one_lsb_below_it():
    lsb = 16.0 / 32768  # 16-bit at ±16 g
    z = _contacts([1.0] * 20)
    z[100, 2] = 16.0 - lsb
    rows = _rows(z, range_g=16.0)
    assert rows is not None and rows.sum() == 1 and rows[100]
    assert _rows(_contacts([1.0] * 20), range_g=16.0) is None


def test_declared_range_finds_a_clip_off_by_an_offset():
    # a ±16 g part clipping 0.1 g short of its range (an offset applied after the clip)
    rows = _rows(_contacts([17.0] * 20, level_g=15.9), range_g=16.0)
    assert rows is not None and rows.sum() > 20


@pytest.mark.parametrize("scale", [0.99, 1.01])
def test_a_2g_clip_after_a_1_percent_scale_error_is_found(scale):
    raw, truth = half_sine_run(minutes=1.0)
    lim = np.float32(2.0 * G_MPS2)
    acc = np.clip(raw.acc_mps2, -lim, lim) * np.float32(scale)  # calibrated after the clip
    res = process_raw(dataclasses.replace(raw, acc_mps2=acc, acc_range_g=None))
    run = res.steps.to_pandas().query("activity == 'run'")
    assert run["impact_peak_g"].isna().mean() > 0.9
    n_clip = int(run["impact_peak_g"].isna().sum())
    assert f"{n_clip} running steps read their peak vGRF" in res.summary["status_reason"]
    assert np.median(np.abs(run["grf_peak_bw"].dropna() - truth["peak_bw"])) < 0.08


def test_walking_contacts_keep_their_peaks_and_running_ones_lose_impact_and_loading_rate():
    n = 4
    sm = StepMetrics(**{f: np.full(n, 2.0) for f in StepMetrics.__dataclass_fields__})
    sm = dataclasses.replace(sm, step_time_s=np.full(n, 0.36), contact_time_s=np.full(n, 0.24))
    grid = np.zeros(100, dtype=bool)
    grid[[5, 25, 45]] = True  # one clipped sample in each of the first three contacts
    start, end = np.array([0, 20, 40, 60]), np.array([10, 30, 50, 70])
    run = np.array([True, False, True, True])
    out, hit = peaks_without_clipping(sm, run_mask=run, start_idx=start, end_idx=end, clipped_grid=grid)
    assert hit.tolist() == [True, False, True, False]  # walking (1) and unclipped (3) untouched
    for name in ("impact_peak_g", "loading_rate_g_per_s"):
        got = getattr(out, name)
        assert np.isnan(got[hit]).all() and (got[~hit] == 2.0).all(), name
    assert (out.grf_peak_bw[~hit] == 2.0).all() and np.isfinite(out.grf_peak_bw[hit]).all()
    assert (out.grf_peak_bw[hit] != 2.0).all()
    assert (out.braking_peak_g == 2.0).all()


def test_clipped_on_grid_marks_the_grid_samples_on_both_sides():
    t_s = np.arange(10) * 0.01
    t_ns = T0 + np.array([0, 25_000_000, 50_000_000, 95_000_000], dtype=np.int64)  # 0, 25, 50, 95 ms
    rows = np.array([False, True, False, True])
    got = clipped_on_grid(t_ns, rows, t0_ns=T0, t_s=t_s)
    assert np.flatnonzero(got).tolist() == [2, 3, 9]  # 25 ms -> grid 20 and 30 ms; 95 ms -> 90 (the end)
    assert not clipped_on_grid(t_ns, rows, t0_ns=T0, t_s=np.zeros(0)).size


def test_censored_quantile_is_the_quantile_while_it_rests_on_known_values():
    from imuback.signal.clipping import censored_quantile

    rng = np.random.default_rng(3)
    x = rng.normal(3.0, 0.3, 41)
    for q in (0.25, 0.5, 0.75):
        assert censored_quantile(x, q) == pytest.approx(np.quantile(x, q))
    top = np.where(x > np.quantile(x, 0.8), np.inf, x)  # the largest 8 of 41 censored
    assert censored_quantile(top, 0.5) == pytest.approx(censored_median(top)) == pytest.approx(np.median(x))
    assert censored_quantile(top, 0.75) == pytest.approx(np.quantile(x, 0.75))  # position 30 < 33
    assert np.isnan(censored_quantile(top, 0.9))
    assert np.isnan(censored_quantile(np.array([np.nan]), 0.5))
