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


def test_a_raw_parquet_file_keeps_its_own_mounting_the_same_everywhere(tmp_path, capsys):
    """Raw Parquet states its mounting: the same one given is accepted, another refused naming both,
    by ``process``, ``batch`` (which records the refusal for that session and goes on) and Python alike.
    """
    import json

    import imuback
    from imuback.errors import RawFormatError
    from imuback.store.dataset import read_table
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=0.5, seed=2, runner_id="r1")
    own = json.dumps(np.asarray(raw.mounting).tolist())
    other = XSENS_L5
    path = write_raw(tmp_path / "s.parquet", raw)
    other_path = write_raw(tmp_path / "t.parquet", imuback.simulate(minutes=0.5, seed=3, runner_id="r1"))
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--mounting", other]) == 1
    err = capsys.readouterr().err
    assert f"the file's imuback.mounting is {own}, not the [[0.0, 0.0, -1.0]" in err and "drop --mounting" in err
    assert not ds.exists() or not (ds / "sessions").exists()
    for given in ([], ["--mounting", own]):
        assert main(["process", str(path), "--dataset", str(ds), *given]) == 0
        assert _stored(ds)["mounting_source"] == "file" and _stored(ds)["mounting_nominal"] == own
    bds = tmp_path / "bds"
    assert main(["batch", str(path), str(other_path), "--dataset", str(bds), "--mounting", other,
                 "--progress", "none"]) == 1
    errors = read_table(bds, "errors").to_pylist()
    assert [e["source_path"].endswith("s.parquet") or e["source_path"].endswith("t.parquet") for e in errors] \
        == [True, True] and all("imuback.mounting is" in e["message"] for e in errors)
    assert main(["batch", str(path), "--dataset", str(bds), "--mounting", own, "--progress", "none"]) == 0
    assert read_table(bds, "sessions")["mounting_source"].to_pylist() == ["file"]
    with pytest.raises(RawFormatError, match=r"imuback.mounting is .*; drop mounting="):
        imuback.read(path, mounting=json.loads(other))
    assert imuback.read(path, mounting=json.loads(own)).mounting_source == "file"


def test_a_raw_parquet_file_whose_mounting_is_a_placeholder_takes_the_one_given(tmp_path, capsys):
    """``imuback.mounting_assumed`` (schema 1.7: a Polar recorded without --mounting): the file states
    no mounting, so process, batch and Python take the one given ('given'), none keeps 'assumed'."""
    import dataclasses
    import json

    import imuback
    from imuback.store.dataset import read_table
    from imuback.store.raw import read_raw, write_raw

    raw = dataclasses.replace(imuback.simulate(minutes=0.5, seed=2, runner_id="r1"), mounting=np.eye(3),
                              mounting_source="assumed")
    path = write_raw(tmp_path / "s.parquet", raw)
    assert read_raw(path).mounting_source == "assumed"
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert _stored(ds)["mounting_source"] == "assumed"
    assert main(["process", str(path), "--dataset", str(ds), "--mounting", XSENS_L5]) == 0
    assert _stored(ds)["mounting_source"] == "given"
    assert json.loads(_stored(ds)["mounting_nominal"]) == json.loads(XSENS_L5)
    bds = tmp_path / "bds"
    assert main(["batch", str(path), "--dataset", str(bds), "--mounting", XSENS_L5, "--progress", "none"]) == 0
    assert read_table(bds, "sessions")["mounting_source"].to_pylist() == ["given"]
    got = imuback.read(path, mounting=json.loads(XSENS_L5))
    assert got.mounting_source == "given" and np.allclose(got.mounting, json.loads(XSENS_L5))
    assert imuback.read(path).mounting_source == "assumed"


def test_batch_gives_its_mounting_to_the_files_that_state_none(tmp_path):
    from imuback.batch.work import SessionTask, task_identity

    l5 = tuple(tuple(r) for r in mounting_matrix(XSENS_L5))
    task = SessionTask(path=str(tmp_path / "lb.txt"), dataset=str(tmp_path), pipeline_version="x", mounting=l5)
    assert task_identity(task)["mounting"] == [[0, 0, -1], [0, 1, 0], [1, 0, 0]]
    parquet = SessionTask(path=str(tmp_path / "s.parquet"), dataset=str(tmp_path), pipeline_version="x", mounting=l5,
                          runner_id="r9")
    # all given, each checked against the file's own (formats.check_raw_identity)
    assert task_identity(parquet) == {"runner_id": "r9", "mounting": [[0, 0, -1], [0, 1, 0], [1, 0, 0]]}
