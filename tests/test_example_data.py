"""The example session in data/: known answers from its truth, and a snapshot of its sessions row.

The snapshot (tests/snapshots/example_session.json) fails the test when it is missing or when any
figure moves; after a deliberate pipeline change, regenerate it with IMUBACK_UPDATE_SNAPSHOTS=1
and say why in the commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imuback.pipeline import process_file

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "example-20240304-00.parquet"
TRUTH = ROOT / "data" / "truth" / "example-20240304-00.steps.parquet"
SNAPSHOT = ROOT / "tests" / "snapshots" / "example_session.json"
VOLATILE = {"processed_at", "source_path"}


@pytest.fixture(scope="module")
def result():
    return process_file(RAW)


def _secs(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64) / 1e9


def test_example_matches_its_truth(result):
    truth = pq.read_table(TRUTH)
    run = (np.asarray(truth.column("activity").to_pylist()) == "run") & ~np.asarray(
        truth.column("lost_in_gap").to_pylist(), dtype=bool)
    t_ic = _secs(truth.column("ic_time"))[run]
    steps = result.steps
    e_ic = _secs(steps.column("ic_time"))[np.asarray(steps.column("activity").to_pylist()) == "run"]
    d = np.abs(e_ic[:, None] - t_ic[None, :]).min(axis=0)  # nearest estimate per true contact
    assert np.mean(d < 0.05) >= 0.99
    assert np.median(d) < 0.010
    assert result.summary["misalignment_deg"] == pytest.approx(20.0, abs=3.0)


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if k in VOLATILE:
            continue
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def test_sessions_row_matches_snapshot(result):
    row = _jsonable(result.summary)
    if os.environ.get("IMUBACK_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(row, indent=1, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run with IMUBACK_UPDATE_SNAPSHOTS=1 to create it"
    want = json.loads(SNAPSHOT.read_text())
    assert set(want) == set(row), "the sessions columns changed"
    moved = []
    for k, w in want.items():
        g = row[k]
        if isinstance(w, float) and isinstance(g, float):
            if not math.isclose(g, w, rel_tol=1e-4, abs_tol=1e-6):
                moved.append((k, w, g))
        elif g != w and k != "params_json":
            moved.append((k, w, g))
    assert json.loads(row["params_json"]) == json.loads(want["params_json"])
    assert not moved, f"figures moved from the snapshot: {moved}"
