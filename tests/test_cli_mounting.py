"""``--mounting`` (src/imuback/cli/mounting.py) on ``process``/``batch``, and what the reports say
about a file that did not tell how its sensor was worn (sessions.mounting_source)."""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow.parquet as pq
import pytest

from imuback.cli import main
from imuback.cli.mounting import RECOMMENDED_MOUNTING, mounting_matrix
from imuback.report.analysis import placement_text
from tests.formats.test_xsens import START, _export

XSENS_L5 = "[[0,0,-1],[0,1,0],[1,0,0]]"
"""An Xsens at L5 as in voisard_l5_walk (docs/formats.md)."""


def test_mounting_is_named_or_a_json_rotation_checked_while_parsing():
    assert mounting_matrix("identity") == np.eye(3).tolist()
    assert mounting_matrix("recommended") == RECOMMENDED_MOUNTING
    assert mounting_matrix(XSENS_L5) == [[0, 0, -1], [0, 1, 0], [1, 0, 0]]
    for bad in ("flat", "[[1,0],[0,1]]", "[[1,0,0],[0,1,0],[0,0,-1]]", "[[2,0,0],[0,1,0],[0,0,1]]"):
        with pytest.raises(argparse.ArgumentTypeError):
            mounting_matrix(bad)


def _stored(ds) -> dict:
    return pq.read_table(next((ds / "sessions").rglob("*.parquet"))).to_pylist()[0]


def test_an_xsens_export_without_mounting_is_stored_as_assumed_and_given_one_replaces_it(tmp_path, capsys):
    path, _acc, _gyr = _export(tmp_path / "lb.txt", np.arange(3000))
    ds = tmp_path / "ds"
    argv = ["process", str(path), "--dataset", str(ds), "--runner", "v1", "--start", START]
    assert main(argv) == 0
    row = _stored(ds)
    assert row["mounting_source"] == "assumed" and row["mounting_nominal"] == str(np.eye(3).tolist())
    text = placement_text(row)
    assert "the file did not say how the sensor was worn" in text and "nominal mounting" not in text
    # the same bytes with a mounting: not a no-op, the rows say which mounting they were read with
    assert main([*argv, "--mounting", XSENS_L5]) == 0
    row = _stored(ds)
    assert row["mounting_source"] == "given"
    assert row["mounting_nominal"] == "[[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]"
    assert "from its nominal mounting" in placement_text(row)
    with pytest.raises(SystemExit):
        main([*argv, "--mounting", "sideways"])
    assert "--mounting: not a JSON 3x3 matrix nor one of" in capsys.readouterr().err


def test_a_raw_parquet_file_keeps_its_own_mounting(tmp_path, capsys):
    import imuback
    from imuback.store.raw import write_raw

    path = write_raw(tmp_path / "s.parquet", imuback.simulate(minutes=0.5, seed=2, runner_id="r1"))
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--mounting", "identity"]) == 1
    assert "states its own mounting" in capsys.readouterr().err
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert _stored(ds)["mounting_source"] == "file"


def test_batch_gives_its_mounting_to_the_files_that_state_none(tmp_path):
    from imuback.batch.work import SessionTask, task_identity

    l5 = tuple(tuple(r) for r in mounting_matrix(XSENS_L5))
    task = SessionTask(path=str(tmp_path / "lb.txt"), dataset=str(tmp_path), pipeline_version="x", mounting=l5)
    assert task_identity(task)["mounting"] == [[0, 0, -1], [0, 1, 0], [1, 0, 0]]
    parquet = SessionTask(path=str(tmp_path / "s.parquet"), dataset=str(tmp_path), pipeline_version="x", mounting=l5)
    assert task_identity(parquet) == {}
