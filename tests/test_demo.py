"""`imuback demo` end to end at a small size: history, a BLE recording, the dataset and both reports."""

from __future__ import annotations

import duckdb

from imuback.cli.demo import run_demo
from imuback.store.raw import read_raw


def test_demo_records_processes_and_reports(tmp_path, capsys):
    assert run_demo(out_dir=tmp_path, minutes=2.0, seed=3, weeks=2, speedup=100.0, sessions_per_week=2,
                    history_minutes=2.0) == 0
    out = capsys.readouterr().out
    for words in ("recording today's run", "steps", "cadence", "contact time", "impact", "pelvis",
                  "side-to-side", "asymmetry", "drift", "session report", "trends report"):
        assert words in out, words
    recorded = list((tmp_path / "recorded").glob("*.parquet"))
    assert len(recorded) == 1
    n, runners = duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT runner_id) FROM read_parquet('{tmp_path}/dataset/sessions/**/*.parquet', "
        "hive_partitioning=true)").fetchone()
    assert (n, runners) == (2 * 2 + 1, 1)
    # today's run came over the BLE link whole, however slow the machine: the recorded file holds
    # the samples the sensor had, to its last (a sensor that throttled to its link once lost a
    # fifth of the demo run to buffer overflow; one that stopped with notifications still queued
    # in its stack lost the end of the run unseen)
    complete, run_steps = duckdb.connect().execute(
        f"SELECT completeness_pct, n_run_steps FROM read_parquet('{tmp_path}/dataset/sessions/**/*.parquet', "
        "hive_partitioning=true) WHERE source_path LIKE '%recorded%'").fetchone()
    assert complete >= 95.0 and run_steps > 100, (complete, run_steps)
    sent = read_raw(tmp_path / "truth-of-today" / recorded[0].name)
    got = read_raw(recorded[0])
    assert got.n_samples >= 0.95 * sent.n_samples, (got.n_samples, sent.n_samples)
    span_s = (got.time_ns[-1] - got.time_ns[0]) / 1e9
    assert abs(span_s - (sent.time_ns[-1] - sent.time_ns[0]) / 1e9) < 1.0, span_s
    for name in ("report_session.html", "report_trends.html"):
        html = (tmp_path / name).read_text()
        assert "not a diagnosis" in html.lower() or "informational" in html.lower()
