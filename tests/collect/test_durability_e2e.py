"""Durability claims of docs/collector.md, tested as a user meets them (task 'durable').

The real recorder and host stack over the bumble virtual link, or the CLI in a child process.
Each test checks the books against the simulated sensor's own log where it has one: samples sent,
rows kept, samples reported lost (ring-buffer overflow on a loaded machine counted as lost).
"""

from __future__ import annotations

from pathlib import Path

from imuback.simulate.peripheral import Misbehaviour

from .conftest import make_raw
from .test_record_e2e import check_books, run


def test_duplicate_and_out_of_order_notifications_lose_nothing(tmp_path: Path) -> None:
    raw = make_raw(rate_hz=208, seconds=30)
    faults = Misbehaviour(duplicate_frames=frozenset({40, 41, 300}), late_frames=frozenset({100, 500}))
    rec = run(raw, tmp_path, speedup=10, faults=faults)
    out = check_books(rec)  # every sent sample is a row, in order, with the value sent
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert lost == rec.sensor.log.overflow_samples
    assert rec.result.report.bad_frames == 0


def test_u32_counter_wrap_mid_run_loses_nothing(tmp_path: Path) -> None:
    raw = make_raw(rate_hz=208, seconds=30)
    rec = run(raw, tmp_path, speedup=10, faults=Misbehaviour(counter_start=2**32 - 208 * 12))
    out = check_books(rec)  # the counter wraps 12 s in
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert lost == rec.sensor.log.overflow_samples
    assert rec.result.report.bad_frames == 0
