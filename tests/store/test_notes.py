"""The pain and effort log: notes stored per session, never replaced, checked on the way in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from imuback.cli import main
from imuback.errors import ImubackError
from imuback.store.dataset import write_session
from imuback.store.notes import add_note, read_notes
from imuback.store.schema import TABLE_SCHEMAS


def _dataset(tmp_path: Path) -> Path:
    ds = tmp_path / "ds"
    tables = {name: schema.empty_table() for name, schema in TABLE_SCHEMAS.items()}
    write_session(ds, runner_id="r1", session_id="s1", tables=tables)
    return ds


def test_notes_are_kept_side_by_side_and_survive_reprocessing(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    t0 = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)
    add_note(ds, runner_id="r1", session_id="s1", pain_0_10=3, pain_where="right lower back", written_at=t0)
    add_note(ds, runner_id="r1", session_id="s1", rpe_1_10=7, text="hilly", written_at=t0 + dt.timedelta(hours=1))
    # re-processing the session replaces its derived rows, never what people wrote
    write_session(ds, runner_id="r1", session_id="s1",
                  tables={name: schema.empty_table() for name, schema in TABLE_SCHEMAS.items()})
    notes = read_notes(ds, runner_id="r1")
    assert list(notes["pain_0_10"].fillna(-1)) == [3, -1]
    assert list(notes["rpe_1_10"].fillna(-1)) == [-1, 7]
    assert notes["pain_where"].iloc[0] == "right lower back" and notes["text"].iloc[1] == "hilly"
    assert read_notes(ds, runner_id="r1", session_id="other").empty


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pain_0_10": 11}, "pain must be a whole number from 0 to 10"),
    ({"rpe_1_10": 0}, r"effort \(RPE\) must be a whole number from 1 to 10"),
    ({}, "an empty note"),
    ({"text": "x" * 3000}, "at most 2000"),
    ({"session_id": "nope", "pain_0_10": 1}, "no session 'nope' of runner 'r1'"),
    ({"session_id": "../x", "pain_0_10": 1}, "must be non-empty and use only letters"),
])
def test_bad_notes_are_refused_with_a_reason(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    ds = _dataset(tmp_path)
    args: dict[str, object] = {"runner_id": "r1", "session_id": "s1", **kwargs}
    with pytest.raises(ImubackError, match=message):
        add_note(ds, **args)  # type: ignore[arg-type]
    assert read_notes(ds, runner_id="r1").empty
    assert not list(tmp_path.rglob("*.tmp"))


def test_note_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = _dataset(tmp_path)
    assert main(["note", "--dataset", str(ds), "--runner", "r1", "--session", "s1", "--pain", "4",
                 "--where", "left hip", "--rpe", "6", "--text", "felt it on the downhill"]) == 0
    assert "note stored" in capsys.readouterr().out
    assert main(["note", "--dataset", str(ds), "--runner", "r1", "--session", "s1", "--pain", "12"]) == 2
    assert "pain must be a whole number from 0 to 10" in capsys.readouterr().err
    assert len(read_notes(ds, runner_id="r1")) == 1
