"""Deleting a stored session (src/imuback/store/delete.py, ``imuback delete``, ``imuback.delete_session``) and
listing the recordings stored as several sessions (``imuback duplicates``), on real Parquet datasets made by
processing real files."""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import threading
from pathlib import Path

import pytest

import imuback
from imuback.cli import main
from imuback.errors import DatasetError, SessionHasNotesError, UnknownSessionError
from imuback.store.dataset import read_table, write_session
from imuback.store.raw import write_raw
from tests.signal.analytic import half_sine_run
from tests.test_cli_copies import run_csv

DAY_NS = 86_400 * 10**9


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(ds: Path, table: str, runner: str, session: str) -> int:
    t = read_table(ds, table).to_pandas()
    return int(((t["runner_id"] == runner) & (t["session_id"] == session)).sum())


@pytest.fixture
def three(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """(raw folder, dataset) holding ann's s1 and s2 and bob's s1, each processed from its own raw Parquet file."""
    raw, _ = half_sine_run(minutes=0.5)
    raws = tmp_path / "raw"
    raws.mkdir()
    ds = tmp_path / "ds"
    for i, (runner, session) in enumerate((("ann", "s1"), ("ann", "s2"), ("bob", "s1"))):
        path = write_raw(raws / f"{runner}-{session}.parquet", dataclasses.replace(
            raw, runner_id=runner, session_id=session, time_ns=raw.time_ns + i * DAY_NS))
        assert main(["process", str(path), "--dataset", str(ds)]) == 0
    capsys.readouterr()
    return raws, ds


def test_delete_removes_that_session_from_every_table_and_nothing_else(three, capsys):
    raws, ds = three
    n_steps, n_strides = _rows(ds, "steps", "ann", "s1"), _rows(ds, "strides", "ann", "s1")
    assert n_steps > 50 and n_strides > 50
    before, recordings = _files(ds), _files(raws)
    assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"deleted session s1 of runner ann: {n_steps} steps, {n_strides} strides"
    assert out[1] == (f"its recording is left as it is: {(raws / 'ann-s1.parquet').resolve()} (processing it "
                      "again stores it again)")
    gone = {k for k in before if "runner=ann/session=s1/" in k}
    assert {k.split("/")[0] for k in gone} == {"steps", "strides", "sessions"}
    assert _files(ds) == {k: v for k, v in before.items() if k not in gone}  # the others byte for byte
    assert _files(raws) == recordings  # the raw recordings are never touched
    for table in ("steps", "strides", "sessions"):
        assert _rows(ds, table, "ann", "s1") == 0 and _rows(ds, table, "bob", "s1") > 0
    # bob's s1 (the same session id) and then a runner's last session: its runner folder goes too
    assert main(["delete", "--dataset", str(ds), "--runner", "bob", "--session", "s1"]) == 0
    assert sorted(p.name for p in (ds / "steps").iterdir()) == ["runner=ann"]


def test_query_and_the_trends_report_work_after_a_delete(three, tmp_path, capsys):
    _, ds = three
    assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s2"]) == 0
    capsys.readouterr()
    assert main(["query", "--dataset", str(ds), "SELECT runner_id, session_id, count(*) AS n FROM steps "
                 "GROUP BY ALL ORDER BY ALL"]) == 0
    out = capsys.readouterr().out
    assert "ann" in out and "bob" in out and "s2" not in out and "(2 rows)" in out
    report = tmp_path / "trends.html"
    assert main(["report", "trends", "--dataset", str(ds), "--runner", "ann", "--out", str(report)]) == 0
    assert report.stat().st_size > 1000
    assert main(["report", "session", "--dataset", str(ds), "--session", "s2", "--runner", "ann",
                 "--out", str(tmp_path / "s2.html")]) != 0  # gone: said, not a traceback
    assert "error:" in capsys.readouterr().err


def test_notes_are_refused_unless_with_notes_and_dry_run_changes_nothing(three, capsys):
    _, ds = three
    assert main(["note", "--dataset", str(ds), "--runner", "ann", "--session", "s2", "--pain", "4"]) == 0
    capsys.readouterr()
    before = _files(ds)
    argv = ["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ds}: session 's2' of runner 'ann' has 1 note (pain and effort: the runner's own "
                          "words); nothing was deleted.")
    assert "pass --with-notes" in err
    assert main([*argv, "--dry-run"]) == 2  # what the deletion would do: refuse
    capsys.readouterr()
    n_steps, n_strides = _rows(ds, "steps", "ann", "s2"), _rows(ds, "strides", "ann", "s2")
    assert main([*argv, "--with-notes", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[::2] == [
        f"would delete session s2 of runner ann: {n_steps} steps, {n_strides} strides, 1 note",
        "dry run: nothing changed"]
    assert _files(ds) == before
    assert main([*argv, "--with-notes"]) == 0
    assert capsys.readouterr().out.startswith(f"deleted session s2 of runner ann: {n_steps} steps, "
                                              f"{n_strides} strides, 1 note\n")
    assert not (ds / "notes" / "runner=ann").exists()
    assert _files(ds) == {k: v for k, v in before.items() if "runner=ann/session=s2/" not in k}


def test_a_dry_run_changes_nothing(three, capsys):
    _, ds = three
    before = _files(ds)
    assert main(["delete", "--dataset", str(ds), "--runner", "bob", "--session", "s1", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("would delete session s1 of runner bob: ")
    assert _files(ds) == before
    done = imuback.delete_session(ds, runner_id="bob", session_id="s1", dry_run=True)
    assert done.dry_run and done.n_steps == _rows(ds, "steps", "bob", "s1")
    assert _files(ds) == before


@pytest.mark.parametrize(("runner", "session", "said"), [
    ("ann", "s3", "runner 'ann' has no session 's3'; its sessions: s1, s2"),
    ("ann", "S2", "runner 'ann' has no session 'S2'; its sessions: s2, s1"),  # the closest first
    ("anne", "s1", "no runner 'anne' in the dataset (runners 'ann', 'bob' have sessions of that id); its runners: "
                   "ann, bob"),
    ("bob", "s2", "runner 'bob' has no session 's2' (runner 'ann' has a session of that id); its sessions: s1"),
    # an id is a name, never a path
    ("ann", "../ann/s1", "runner 'ann' has no session '../ann/s1'; its sessions: s1, s2"),
])
def test_an_unknown_session_or_runner_names_what_is_there(three, capsys, runner, session, said):
    _, ds = three
    before = _files(ds)
    assert main(["delete", "--dataset", str(ds), "--runner", runner, "--session", session]) == 2
    assert capsys.readouterr().err == f"error: {ds}: {said}\n"
    with pytest.raises(UnknownSessionError, match="no"):
        imuback.delete_session(ds, runner_id=runner, session_id=session)
    assert _files(ds) == before


def test_python_returns_what_it_deleted_and_gives_python_advice(three):
    raws, ds = three
    assert main(["note", "--dataset", str(ds), "--runner", "ann", "--session", "s1", "--rpe", "5"]) == 0
    with pytest.raises(SessionHasNotesError) as exc:
        imuback.delete_session(ds, runner_id="ann", session_id="s1")
    assert "pass with_notes=True" in str(exc.value) and "--with-notes" not in str(exc.value)
    done = imuback.delete_session(ds, runner_id="ann", session_id="s1", with_notes=True)
    assert isinstance(done, imuback.DeletedSession)
    assert (done.runner_id, done.session_id, done.n_notes, done.n_warnings, done.dry_run) == ("ann", "s1", 1, 0, False)
    assert done.tables == ("notes", "sessions", "steps", "strides")
    assert done.n_steps and done.n_strides and done.source_path == str((raws / "ann-s1.parquet").resolve())
    with pytest.raises(DatasetError, match="no dataset folder there"):
        imuback.delete_session(ds / "nope", runner_id="ann", session_id="s1")
    # processing the recording again stores it again: the raw file was left alone
    assert imuback.process(raws / "ann-s1.parquet", dataset=ds).up_to_date is False
    assert _rows(ds, "sessions", "ann", "s1") == 1


def test_a_batch_holding_the_lock_is_named_and_a_one_session_writer_waited_for(three, capsys):
    from imuback.store.lock import PROCESS_COMMAND, DatasetLock

    _, ds = three
    before = _files(ds)
    with DatasetLock(ds, command="imuback batch"):  # a running batch (this process, alive)
        assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ds}: imuback batch (pid ") and "is writing this dataset; wait for it" in err
    assert _files(ds) == before
    lock = DatasetLock(ds, command=PROCESS_COMMAND)  # `imuback process` writing one session
    lock.__enter__()
    threading.Timer(0.5, lock.__exit__, args=(None, None, None)).start()
    assert imuback.delete_session(ds, runner_id="ann", session_id="s1").n_steps  # waited for it, then deleted
    assert _rows(ds, "sessions", "ann", "s1") == 0
    assert not (ds / ".imuback.lock").exists()


def test_process_waits_for_a_deletion(three):
    from imuback.store.lock import DELETE_COMMAND, DatasetLock

    raws, ds = three
    lock = DatasetLock(ds, command=DELETE_COMMAND)
    lock.__enter__()
    threading.Timer(0.5, lock.__exit__, args=(None, None, None)).start()
    assert imuback.process(raws / "ann-s1.parquet", dataset=ds).up_to_date  # waited, not refused


def test_a_deletion_cut_short_leaves_no_session_without_its_steps_and_is_finished_by_running_it_again(
        three, monkeypatch, capsys):
    import imuback.store.dataset as dataset

    _, ds = three
    n_steps = _rows(ds, "steps", "ann", "s1")
    real_rmtree, calls = shutil.rmtree, []

    def cut_after_the_first(path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:
            raise KeyboardInterrupt  # Ctrl-C after the first table
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(dataset.shutil, "rmtree", cut_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        imuback.delete_session(ds, runner_id="ann", session_id="s1")
    monkeypatch.undo()
    assert _rows(ds, "sessions", "ann", "s1") == 0 and _rows(ds, "steps", "ann", "s1") == n_steps  # sessions first
    assert not (ds / ".imuback.lock").exists()
    assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"deleted session s1 of runner ann: {n_steps} steps, ")
    assert out[1] == "its sessions row was gone already: what a deletion cut short left is deleted"
    assert _rows(ds, "steps", "ann", "s1") == 0 and _rows(ds, "strides", "ann", "s1") == 0


@pytest.fixture
def trials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """(data.mat, dataset): a mobgap file of two trials (the same bytes, other first samples), processed with a
    --time-zone over the file's own: a warning per trial in the warnings table, keyed by the file."""
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    mat = _write(tmp_path / "data.mat", {"TimeMeasure1": {
        "Test5": {"Trial1": {"SU": {"LowerBack": _lower_back(20, T0_S)}, "TimeZone": "Europe/Madrid"}},
        "Test11": {"Trial1": {"SU": {"LowerBack": _lower_back(20, T0_S + 600, seed=1)},
                              "TimeZone": "Europe/Madrid"}}}})
    ds = tmp_path / "ds"
    assert main(["process", str(mat), "--runner", "ha", "--time-zone", "UTC", "--dataset", str(ds)]) == 0
    capsys.readouterr()
    return mat, ds


def test_a_files_warnings_go_with_its_last_stored_session(trials, capsys):
    from imuback.store.warnings_table import read_warnings

    _, ds = trials
    assert read_warnings(ds).num_rows == 2
    assert main(["delete", "--dataset", str(ds), "--runner", "ha", "--session", "TimeMeasure1_Test5_Trial1"]) == 0
    assert "of its file" not in capsys.readouterr().out
    assert read_warnings(ds).num_rows == 2  # about the file, whose other trial is still stored
    assert main(["delete", "--dataset", str(ds), "--runner", "ha", "--session", "TimeMeasure1_Test11_Trial1"]) == 0
    assert ", 2 warnings of its file\n" in capsys.readouterr().out
    assert read_warnings(ds).num_rows == 0


def test_the_trials_of_one_file_are_not_duplicates(trials, capsys):
    _, ds = trials
    assert main(["duplicates", "--dataset", str(ds)]) == 0
    assert capsys.readouterr().out == "no duplicates: each of the 2 stored sessions is a recording of its own\n"


def test_duplicates_lists_a_recording_stored_twice_and_its_delete_line_ends_it(tmp_path, capsys):
    from imuback.pipeline import process_file

    csv, ds = run_csv(tmp_path / "phone"), tmp_path / "ds"
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "ann"]) == 0
    (sid,) = read_table(ds, "sessions").column("session_id").to_pylist()
    # what pipeline 0.15 did with a copy under another name: stored it again under another session id
    copy = shutil.copy(csv, csv.with_name("run (1).csv"))
    for runner, session in (("ann", "run-copy"), ("bob", "run-bob")):
        res = process_file(copy, csv_meta={"runner_id": runner, "session_id": session})
        write_session(ds, runner_id=runner, session_id=session, tables=res.tables())
    assert main(["note", "--dataset", str(ds), "--runner", "bob", "--session", "run-bob", "--pain", "2"]) == 0
    capsys.readouterr()
    before = _files(ds)
    assert main(["duplicates", "--dataset", str(ds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert _files(ds) == before  # it deletes nothing
    assert out[0] == "1 recording is stored as more than one session (the same bytes and first sample):"
    assert out[1].startswith("recording with SHA-256 ") and out[1].endswith(", first sample 2023-11-14T22:13:20Z:")
    # kept: the one with notes, then the one processed first
    assert out[2].startswith("  keep  session run-bob of runner bob (from ") and ", 1 note, processed " in out[2]
    assert out[3].startswith(f"  extra session {sid} of runner ann (from {csv.resolve()}, ")
    assert out[4] == f"        imuback delete --dataset={ds} --runner=ann --session={sid}"
    assert out[5].startswith("  extra session run-copy of runner ann (from ")
    assert out[6] == f"        imuback delete --dataset={ds} --runner=ann --session=run-copy"
    assert out[7] == "  stored under runners ann, bob: keep the right runner's session, whichever it is"
    assert out[-1] == "kept: the session with the most notes, then the one processed first; nothing was deleted"
    for line in (out[4], out[6]):
        assert main(shlex.split(line)[1:]) == 0
    capsys.readouterr()
    assert main(["duplicates", "--dataset", str(ds)]) == 0
    assert capsys.readouterr().out == "no duplicates: each of the 1 stored sessions is a recording of its own\n"
    assert read_table(ds, "sessions").column("session_id").to_pylist() == ["run-bob"]


def test_duplicates_of_an_empty_dataset_and_an_unreadable_sessions_file(three, tmp_path, capsys):
    _, ds = three
    (ds / "sessions" / "runner=bob" / "session=s1" / "part-0.parquet").write_bytes(b"not parquet")
    assert main(["duplicates", "--dataset", str(ds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("warning: ") and out[0].endswith("runner=bob/session=s1/part-0.parquet: cannot be "
                                                              "read; left out")
    assert out[1] == "no duplicates: each of the 2 stored sessions is a recording of its own"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["duplicates", "--dataset", str(empty)]) == 0
    assert capsys.readouterr().out == "no duplicates: the dataset holds no sessions\n"


def test_a_duplicates_line_works_for_ids_starting_with_a_dash_and_a_dataset_path_with_spaces(tmp_path, capsys):
    from imuback.pipeline import process_file

    csv, ds = run_csv(tmp_path / "phone"), tmp_path / "my data"
    for runner, session in (("-ann", "-run"), ("-ann", "-run-copy")):
        res = process_file(csv, csv_meta={"runner_id": runner, "session_id": session})
        write_session(ds, runner_id=runner, session_id=session, tables=res.tables())
    assert main(["duplicates", "--dataset", str(ds)]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "imuback delete" in x]
    assert line == f"        imuback delete '--dataset={ds}' --runner=-ann --session=-run-copy"
    assert main(shlex.split(line)[1:]) == 0
    assert capsys.readouterr().out.startswith("deleted session -run-copy of runner -ann: ")
    assert read_table(ds, "sessions").column("session_id").to_pylist() == ["-run"]


def test_finishing_a_deletion_cut_short_removes_the_warnings_that_name_it(trials, monkeypatch, capsys):
    """Cut right after its sessions row went (its input file no longer known from it): the warnings rows
    that name it are found by the session they name, and go when finishing it; notes are advised from their
    files, no report showing them now."""
    import imuback.store.dataset as dataset
    from imuback.store.warnings_table import read_warnings

    _, ds = trials
    assert main(["delete", "--dataset", str(ds), "--runner", "ha", "--session", "TimeMeasure1_Test5_Trial1"]) == 0
    assert main(["note", "--dataset", str(ds), "--runner", "ha", "--session", "TimeMeasure1_Test11_Trial1",
                 "--pain", "3"]) == 0
    capsys.readouterr()
    real_rmtree = shutil.rmtree

    def cut_after_the_first(path, *args, **kwargs):
        real_rmtree(path, *args, **kwargs)
        raise KeyboardInterrupt  # killed right after the sessions folder went

    monkeypatch.setattr(dataset.shutil, "rmtree", cut_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        imuback.delete_session(ds, runner_id="ha", session_id="TimeMeasure1_Test11_Trial1", with_notes=True)
    monkeypatch.undo()
    assert _rows(ds, "sessions", "ha", "TimeMeasure1_Test11_Trial1") == 0 and read_warnings(ds).num_rows == 2
    argv = ["delete", "--dataset", str(ds), "--runner", "ha", "--session", "TimeMeasure1_Test11_Trial1"]
    assert main(argv) == 2
    notes = ds / "notes" / "runner=ha" / "session=TimeMeasure1_Test11_Trial1"
    assert f"nothing was deleted. Read them in their files, {notes / 'note-*.parquet'} (Parquet; its sessions row is " \
           "gone" in capsys.readouterr().err
    assert main([*argv, "--with-notes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(", 1 note, 2 warnings of its file")
    assert out[1] == "its sessions row was gone already: what a deletion cut short left is deleted"
    assert read_warnings(ds).num_rows == 0 and not (ds / "steps" / "runner=ha").exists()


def test_a_sessions_folder_that_cannot_be_removed_stops_the_deletion_before_other_tables(three, tmp_path, capsys):
    _, ds = three
    folder = ds / "sessions" / "runner=ann" / "session=s1"
    elsewhere = tmp_path / "elsewhere"
    shutil.move(folder, elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)
    before = _files(ds)
    assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s1"]) == 2
    assert capsys.readouterr().err == (f"error: {folder} cannot be removed (Cannot call rmtree on a symbolic link); "
                                       "stopped there, nothing after it was touched: fix that and run the same "
                                       "command again\n")
    assert _files(ds) == before and (elsewhere / "part-0.parquet").exists()  # steps and strides kept
    folder.unlink()  # fixed: the same deletion again finishes it
    assert main(["delete", "--dataset", str(ds), "--runner", "ann", "--session", "s1"]) == 0
    assert _rows(ds, "steps", "ann", "s1") == 0 and _rows(ds, "strides", "ann", "s1") == 0


def test_a_move_stops_before_its_sessions_row_when_a_folder_stays(three, tmp_path):
    """``sessions_last`` (a move to another runner): a steps folder that stays keeps the old sessions row,
    for the move to be found and finished."""
    from imuback.store.dataset import delete_session

    _, ds = three
    folder = ds / "steps" / "runner=ann" / "session=s1"
    shutil.move(folder, tmp_path / "elsewhere")
    folder.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(DatasetError, match=r"steps/runner=ann/session=s1 cannot be removed \(Cannot call rmtree"):
        delete_session(ds, runner_id="ann", session_id="s1", sessions_last=True)
    assert _rows(ds, "sessions", "ann", "s1") == 1
