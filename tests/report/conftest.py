"""A fabricated processed dataset with known trends, so report flags have known answers.

``fabricate_runner`` writes schema-valid ``steps``/``strides``/``sessions`` rows through
``imuback.store.dataset.write_session``: several weeks of sessions for one runner with plausible
per-step values, small session-to-session noise, and chosen changes (a right-side impact rise in
the last weeks, a contact-time rise below the smallest real change, obliquity rising late in the
recent runs). The ``sessions`` row is computed from the fabricated steps and strides with the
contract's definitions (medians, side medians, asymmetries, drift).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from imuback.report.html import FOOTER
from imuback.signal.summary import drift
from imuback.store.dataset import write_session
from imuback.store.schema import DRIFT_METRICS, MEDIAN_METRICS, SESSIONS_SCHEMA, SIDE_METRICS, TABLE_SCHEMAS

WEEK_DAYS = (0, 2, 5)  # Monday, Wednesday, Saturday


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    runner_id: str = "r1"
    weeks: int = 6
    sessions_per_week: int = 3
    minutes: float = 24.0
    first_monday: str = "2024-03-04"
    seed: int = 0
    rise_weeks: int = 3
    right_impact_rise_pct: float = 0.0
    """Right-foot impact: +this % in the last week, reached in equal weekly steps over rise_weeks."""
    left_impact_rise_pct: float = 0.0
    """Left-foot impact: the same for the left foot."""
    contact_rise_s: float = 0.0
    """Contact time (both feet): +this in the last week, in equal weekly steps."""
    grf_rise_bw: float = 0.0
    """Peak vGRF (both feet): +this in the last week, in equal weekly steps."""
    late_obliquity_pct: float = 0.0
    """Obliquity rises linearly by this % over the last 10 minutes of each run in the last
    rise_weeks weeks (so the last-10-minute median is about half of it above baseline)."""
    eased_weeks: int = 0
    """The rises end this many weeks before the last week and are gone in those weeks."""
    session_noise: float = 1.0
    """Scale of the session-to-session noise."""
    sensor: str = "simulated DIY IMU"
    status_reason: str = ""
    cadence_offsets: tuple[tuple[int, float], ...] = ()
    """(session index, spm) added to one session's cadence (an off-pace session)."""
    treadmill_speed_mps: float | None = None
    """Every session on a treadmill at this speed (step and stride length, pace); None: no speed."""
    low_quality_every: int = 0
    """Every this-many-th step of each session has quality 0.2 (low confidence); 0: none."""
    sample_rate_hz: float = 200.0
    """The sensor's rate recorded in each sessions row (the fabricated values do not depend on it)."""
    sample_rates_hz: tuple[tuple[int, float], ...] = ()
    """(session index, Hz): that session's rate instead of ``sample_rate_hz``."""
    last_week_sessions: int | None = None
    """Only the first this-many sessions of the last week are written (None: all)."""
    skip_weeks: tuple[int, ...] = ()
    """Weeks without sessions (a gap: holidays, an injury)."""
    late_sensor: tuple[int, str, float] | None = None
    """(week, sensor, Hz): every session from that week on recorded by this sensor at this rate."""
    utc_offset_min: int | None = None
    """Every session's ``sessions.utc_offset_min`` (None: zone unknown, UTC days). The start times
    stay the same UTC instants (07:00Z): at -480 (UTC-8) each run is 23:00 the day before locally."""


def _asym(left: float, right: float) -> float:
    return 100.0 * (left - right) / ((left + right) / 2)


def fabricate_runner(dataset: Path, scenario: Scenario = Scenario()) -> list[str]:
    """Write the scenario's sessions into ``dataset``; return their session ids, oldest first."""
    sc = scenario
    rng = np.random.default_rng(sc.seed)
    ids: list[str] = []
    n_sessions = sc.weeks * sc.sessions_per_week
    for k in range(n_sessions):
        week, nth = divmod(k, sc.sessions_per_week)
        if week == sc.weeks - 1 and sc.last_week_sessions is not None and nth >= sc.last_week_sessions:
            break  # the last week's later sessions (the last ones drawn: earlier draws stay as they were)
        if week in sc.skip_weeks:
            continue
        start = (pd.Timestamp(sc.first_monday, tz="UTC") + pd.Timedelta(days=7 * week + WEEK_DAYS[nth % 3])
                 + pd.Timedelta(hours=7, minutes=nth))
        end = sc.weeks - sc.eased_weeks
        ramp = max(0, week - (end - sc.rise_weeks) + 1) / sc.rise_weeks if week < end else 0.0
        noise = sc.session_noise
        offsets = dict(sc.cadence_offsets)
        cadence = 170.0 + noise * rng.normal(0, 0.8) + offsets.get(k, 0.0)
        contact = 0.240 + noise * rng.normal(0, 0.003) + ramp * sc.contact_rise_s
        impact_l = (3.0 + noise * rng.normal(0, 0.02)) * (1 + ramp * sc.left_impact_rise_pct / 100)
        impact_r = (3.0 + noise * rng.normal(0, 0.02)) * (1 + ramp * sc.right_impact_rise_pct / 100)
        grf = 2.5 + noise * rng.normal(0, 0.02) + ramp * sc.grf_rise_bw
        obliquity = 9.0 + noise * rng.normal(0, 0.15)
        late = ramp > 0 and sc.late_obliquity_pct > 0
        sid = f"{sc.runner_id}-{start:%Y%m%d}-{nth}"
        ids.append(sid)

        n = int(sc.minutes * cadence)
        step_time = np.full(n, 60.0 / cadence) + rng.normal(0, 0.004, n)
        ic_s = 5.0 + np.concatenate([[0.0], np.cumsum(step_time[:-1])])
        t_min = ic_s / 60
        foot = np.where(np.arange(n) % 2 == 0, "L", "R")
        is_r = foot == "R"
        ct = contact + rng.normal(0, 0.008, n)
        impact = np.where(is_r, impact_r, impact_l) + rng.normal(0, 0.12, n)
        grf_s = grf + rng.normal(0, 0.08, n)
        ic = start + pd.to_timedelta(ic_s, unit="s")
        steps = pd.DataFrame({
            "session_id": sid, "runner_id": sc.runner_id, "step": np.arange(n, dtype=np.int32),
            "foot": foot, "activity": "run", "ic_time": ic,
            "to_time": ic + pd.to_timedelta(ct, unit="s"),
            "step_time_s": step_time, "contact_time_s": ct, "flight_time_s": step_time - ct,
            "cadence_spm": 60.0 / step_time, "impact_peak_g": impact, "grf_peak_bw": grf_s,
            "loading_rate_g_per_s": 80.0 + rng.normal(0, 6, n),
            "vertical_oscillation_cm": 8.5 + rng.normal(0, 0.4, n),
            # constant, so that the random draws of the other columns stay as they were
            "braking_peak_g": np.full(n, 0.35), "braking_impulse_mps": np.full(n, 0.30),
            "pelvic_drop_deg": np.full(n, 4.0), "quality": np.full(n, 0.95), "speed_mps": np.full(n, np.nan),
        })
        if sc.low_quality_every:
            steps.loc[steps["step"] % sc.low_quality_every == 0, "quality"] = 0.2
        speed = np.nan if sc.treadmill_speed_mps is None else sc.treadmill_speed_mps
        steps["step_length_m"] = speed * step_time
        steps["vertical_ratio_pct"] = steps["vertical_oscillation_cm"] / steps["step_length_m"]
        steps["clipped"] = False  # a sensor whose range holds every impact
        m = n // 2
        s_idx = np.arange(m) * 2
        s_t = t_min[s_idx]
        obl = obliquity + rng.normal(0, 0.6, m)
        if late:
            t_end = s_t.max()
            obl = obl * (1 + sc.late_obliquity_pct / 100 * np.clip((s_t - (t_end - 10)) / 10, 0, 1))
        strides = pd.DataFrame({
            "session_id": sid, "runner_id": sc.runner_id, "stride": np.arange(m, dtype=np.int32),
            "foot": "L", "start_time": ic[s_idx], "stride_time_s": step_time[s_idx] + step_time[s_idx + 1],
            "pelvis_rotation_deg": 13.0 + rng.normal(0, 0.8, m), "pelvis_obliquity_deg": obl,
            "pelvis_tilt_deg": 6.5 + rng.normal(0, 0.5, m),
            "ml_excursion_cm": 3.0 + rng.normal(0, 0.3, m), "ml_acc_rms_g": 0.15 + rng.normal(0, 0.01, m),
            "impact_asymmetry_pct": [_asym(a, b) for a, b in zip(impact[s_idx], impact[s_idx + 1], strict=True)],
            "contact_asymmetry_pct": [_asym(a, b) for a, b in zip(ct[s_idx], ct[s_idx + 1], strict=True)],
            "stride_length_m": speed * (step_time[s_idx] + step_time[s_idx + 1]),
        })
        row: dict[str, Any] = {name: None for name in SESSIONS_SCHEMA.names}
        duration = float(ic_s[-1] + 5.0)
        row.update({
            "session_id": sid, "runner_id": sc.runner_id, "start_time": start, "duration_s": duration,
            "sensor": sc.sensor, "sample_rate_hz": dict(sc.sample_rates_hz).get(k, sc.sample_rate_hz), "has_gyro": True,
            "misalignment_deg": 12.0 + rng.normal(0, 1), "completeness_pct": 99.6, "n_gaps": 1,
            "gap_total_s": 0.4, "n_run_steps": n, "n_walk_steps": 0, "run_time_s": duration - 10,
            "walk_time_s": 0.0, "still_time_s": 10.0, "step_regularity": 0.82,
            "stride_regularity": 0.86, "step_symmetry": 0.95,
            "status": "ok", "status_reason": sc.status_reason, "source_path": f"/raw/{sid}.parquet",
            "source_sha256": "0" * 64, "pipeline_version": "test", "params_json": "{}",
            "processed_at": pd.Timestamp("2024-06-01", tz="UTC"),
            "speed_source": "none" if sc.treadmill_speed_mps is None else "treadmill",
            "treadmill_speed_mps": sc.treadmill_speed_mps,
            "utc_offset_min": sc.utc_offset_min,
            "low_quality_step_pct": 100.0 * float(np.mean(steps["quality"] < 0.5)),
            "low_quality_reason": "a low-quality share, the reason in words" if sc.low_quality_every else None,
        })
        if sc.treadmill_speed_mps is not None:
            row.update({"speed_coverage_pct": 100.0, "median_speed_mps": speed, "median_pace_s_per_km": 1000 / speed,
                        "median_step_length_m": float(steps["step_length_m"].median()),
                        "median_stride_length_m": float(strides["stride_length_m"].median()),
                        "median_vertical_ratio_pct": float(steps["vertical_ratio_pct"].median())})
        for metric, _unit in MEDIAN_METRICS:
            src = steps if metric in steps else strides
            row[f"median_{metric}"] = float(np.median(src[metric]))
        row["median_cadence_spm"] = cadence
        for metric, _unit, short in SIDE_METRICS:
            left = float(np.median(steps.loc[~is_r, metric]))
            right = float(np.median(steps.loc[is_r, metric]))
            row[f"left_{metric}"], row[f"right_{metric}"] = left, right
            row[f"asymmetry_{short}_pct"] = _asym(left, right)
        for metric in DRIFT_METRICS:
            src, t = (steps, t_min) if metric in steps else (strides, s_t)
            slope, pct, ci = drift(t, src[metric].to_numpy(float), baseline=(2.0, 10.0), late_min=10.0)
            row[f"drift_{metric}_per_10min"], row[f"drift_{metric}_pct"] = slope, pct
            row[f"drift_{metric}_ci95_pct"] = ci
        tables = {
            "steps": pa.Table.from_pandas(steps, schema=TABLE_SCHEMAS["steps"], preserve_index=False),
            "strides": pa.Table.from_pandas(strides, schema=TABLE_SCHEMAS["strides"], preserve_index=False),
            "sessions": pa.Table.from_pylist([row], schema=SESSIONS_SCHEMA),
        }
        if sc.late_sensor is not None and week >= sc.late_sensor[0]:
            tables["sessions"] = pa.Table.from_pylist(
                [{**row, "sensor": sc.late_sensor[1], "sample_rate_hz": sc.late_sensor[2]}], schema=SESSIONS_SCHEMA)
        write_session(dataset, runner_id=sc.runner_id, session_id=sid, tables=tables)
    return ids


@pytest.fixture
def fabricate(tmp_path: Path) -> Callable[..., tuple[Path, list[str]]]:
    """``fabricate(**scenario_fields) -> (dataset_dir, session_ids)`` into a fresh tmp folder."""

    def make(**fields: Any) -> tuple[Path, list[str]]:
        dataset = tmp_path / f"dataset-{len(list(tmp_path.glob('dataset-*')))}"
        return dataset, fabricate_runner(dataset, Scenario(**fields))

    return make


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The headline scenario: 6 weeks, right impact +12 % over the last 3 weeks, contact time
    +20 ms (below the 32 ms smallest real change), obliquity rising late in recent runs."""
    dataset = tmp_path_factory.mktemp("report") / "dataset"
    ids = fabricate_runner(dataset, Scenario(right_impact_rise_pct=12.0, contact_rise_s=0.020,
                                             late_obliquity_pct=20.0))
    return dataset, ids


# --- the browser: Debian Chromium driven by Playwright's Python API ------------------------
# No ``playwright install``: the system Chromium at /usr/bin/chromium (or $IMUBACK_CHROMIUM).
# Without it the browser tests skip with a message, except under CI (env CI set): then they fail.

CHROMIUM = os.environ.get("IMUBACK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")  # closed after each module: Playwright's sync API runs an event loop
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}: install Debian's `chromium` or set IMUBACK_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e .[test])")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, html: Path) -> tuple[Any, list[str]]:
    """Load ``html``; return the page and every problem seen (console errors, failed or
    non-local requests, page errors)."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.on("request", lambda r: problems.append(f"network request: {r.url}")
            if r.url != html.resolve().as_uri() else None)
    response = page.goto(html.resolve().as_uri(), wait_until="load")
    assert response is None or response.ok
    return page, problems


def _check_plots(page: Any, minimum: int) -> int:
    plots = page.locator("figure.plot svg")
    n = plots.count()
    assert n >= minimum
    for i in range(n):
        svg = plots.nth(i)
        svg.scroll_into_view_if_needed()
        assert svg.is_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, box
        # something is drawn in it: lines, points or shaded areas
        assert svg.locator("polyline, circle, polygon").count() > 0
    return n


def _check_footer(page: Any) -> None:
    footer = page.locator("footer")
    assert footer.is_visible()
    assert FOOTER in footer.inner_text()
    assert "cleared" not in page.content().lower()


def _screenshot(page: Any, name: str, tmp_path: Path) -> None:
    target = DOCS / name if os.environ.get("IMUBACK_UPDATE_SCREENSHOTS") else tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000




@dataclass(frozen=True, slots=True)
class PageCheck:
    """What the browser tests do to a report page (see the functions above)."""

    browser: Any

    def open(self, html: Path) -> tuple[Any, list[str]]:
        return _open(self.browser, html)

    @staticmethod
    def plots(page: Any, minimum: int) -> int:
        return _check_plots(page, minimum)

    @staticmethod
    def footer(page: Any) -> None:
        _check_footer(page)

    @staticmethod
    def screenshot(page: Any, name: str, tmp_path: Path) -> None:
        _screenshot(page, name, tmp_path)


@pytest.fixture
def page_check(browser: Any) -> PageCheck:
    return PageCheck(browser)
