"""``imuback batch`` finds and processes every format ``process`` reads, with ``--runner``,
``--session`` and ``--start`` for files that name no identity; a bad file is recorded and the
batch goes on.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest

from imuback.batch.inputs import discover_inputs
from imuback.batch.runner import run_batch
from imuback.cli.main import main
from imuback.errors import BatchInputError
from tests.formats.cwa_spec import write_cwa
from tests.formats.test_apdm import _write as write_apdm
from tests.signal.analytic import half_sine_run

START = dt.datetime(2024, 3, 4, 7, 0, 0)


def _cwa(path: Path, *, minutes: float = 0.5) -> Path:
    raw = half_sine_run(fs=100.0, minutes=minutes)[0]
    return write_cwa(path, acc_mps2=raw.acc_mps2.astype(float), gyr_dps=raw.gyr_dps.astype(float), fs=100.0,
                     start=START)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    (root / "lab").mkdir(parents=True)
    _cwa(root / "ax6.cwa")
    write_apdm(root / "lab" / "opal.h5", {"XI-1": "Lumbar"})
    cut = _cwa(root / "lab" / "cut.cwa", minutes=0.2)
    cut.write_bytes(cut.read_bytes()[:-7])  # an interrupted copy
    (root / "README.txt").write_text("recordings of the spring study\n")
    (root / "notes.json").write_text(json.dumps({"site": "lab"}))
    return root


def test_folders_yield_every_format_told_by_content(folder: Path):
    ignored: list[Path] = []
    found = discover_inputs([folder], not_raw=ignored)
    assert [p.name for p in found] == ["ax6.cwa", "cut.cwa", "opal.h5"]
    assert sorted(p.name for p in ignored) == ["README.txt", "notes.json"]


def test_batch_processes_every_format_and_records_a_bad_file(folder: Path, tmp_path: Path):
    ds = tmp_path / "ds"
    summary = run_batch([folder], dataset=ds, workers=1, runner_id="ann")
    by_name = {Path(o.path).name: o for o in summary.outcomes}
    assert by_name["ax6.cwa"].status == "processed" and by_name["ax6.cwa"].session_id == "ax6-20240304T070000Z"
    assert by_name["opal.h5"].status == "processed" and by_name["opal.h5"].runner_id == "ann"
    assert by_name["cut.cwa"].status == "failed" and not summary.ok
    errors = duckdb.connect().execute(
        f"SELECT source_path, error_type, message FROM read_parquet('{ds}/errors/**/*.parquet')").fetchall()
    assert len(errors) == 1 and errors[0][0].endswith("cut.cwa") and errors[0][1] == "RawFormatError"
    assert "cut.cwa: truncated" in errors[0][2]


def test_session_describes_one_file(folder: Path, tmp_path: Path, capsys):
    with pytest.raises(BatchInputError, match=r"--session s1 names one recording, but the inputs name 3 files"):
        run_batch([folder], dataset=tmp_path / "ds", workers=1, runner_id="ann", session_id="s1")
    argv = ["batch", str(folder), "--runner", "ann", "--session", "s1", "--dataset", str(tmp_path / "ds")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --session s1 names one recording") and "Traceback" not in err
    argv = ["batch", str(folder / "ax6.cwa"), "--runner", "ann", "--session", "easy-run", "--dataset",
            str(tmp_path / "ds1")]
    assert main(argv) == 0
    rows = duckdb.connect().execute(
        f"SELECT runner_id, session_id FROM read_parquet('{tmp_path}/ds1/sessions/**/*.parquet', "
        "hive_partitioning=true)").fetchall()
    assert rows == [("ann", "easy-run")]


def test_a_rerun_skips_files_read_for_their_ids_unless_anything_changed(folder: Path, tmp_path: Path):
    """Inputs whose ids are only known once read (.cwa, .h5) are skipped when every session made
    from them is up to date; a changed file, another --mounting, --force and a file whose last run
    failed are processed again; another --runner is refused unless --replace moves the session."""
    ds = tmp_path / "ds"

    def statuses(**kw: object) -> dict[str, str]:
        kw.setdefault("runner_id", "ann")
        return {Path(o.path).name: o.status for o in run_batch([folder], dataset=ds, workers=1, **kw).outcomes}

    assert statuses() == {"ax6.cwa": "processed", "opal.h5": "processed", "cut.cwa": "failed"}
    assert statuses() == {"ax6.cwa": "skipped", "opal.h5": "skipped", "cut.cwa": "failed"}
    assert statuses(force=True) == {"ax6.cwa": "processed", "opal.h5": "processed", "cut.cwa": "failed"}
    assert statuses(mounting=[[0, 0, -1], [0, 1, 0], [1, 0, 0]])["ax6.cwa"] == "processed"
    assert statuses(mounting=[[0, 0, -1], [0, 1, 0], [1, 0, 0]])["ax6.cwa"] == "skipped"
    assert statuses()["ax6.cwa"] == "skipped"  # back to no mounting: the one given before is kept (up to date)
    assert statuses(runner_id="bob")["ax6.cwa"] == "failed"  # ann's recording: never moved to bob silently
    assert statuses(runner_id="bob", replace=True)["ax6.cwa"] == "processed"  # moved on purpose
    data = (folder / "ax6.cwa").read_bytes()
    (folder / "ax6.cwa").write_bytes(data[:-512])  # one sector fewer: same ids, other bytes
    assert statuses(replace=True)["ax6.cwa"] == "processed"
    assert statuses()["ax6.cwa"] == "skipped"


def test_a_one_file_batch_with_start_and_session_is_skipped_only_when_they_match(tmp_path: Path):
    from tests.formats.test_xsens import _export

    ds, (lb, _acc, _gyr) = tmp_path / "ds", _export(tmp_path / "lb.txt", np.arange(3000))

    def status(**kw: str | bool) -> str:
        return run_batch([lb], dataset=ds, workers=1, runner_id="ann", **kw).outcomes[0].status  # type: ignore[arg-type]

    start = "2024-03-04T07:00:00Z"
    assert status(session_id="easy", start=start) == "processed"
    assert status(session_id="easy", start=start) == "skipped"
    # another session id, the same bytes and start: the same recording, stored as easy (review 32 #1)
    assert status(session_id="long", start=start) == "skipped"
    # another start: the same bytes are easy still, so it is refused, and re-dated with --replace (review 33b)
    refused = run_batch([lb], dataset=ds, workers=1, runner_id="ann", session_id="long",
                        start="2024-03-04T08:00:00Z").outcomes[0]
    assert (refused.status, refused.error_type, refused.session_id) == ("failed", "RedatedError", "easy")
    assert refused.message is not None and refused.message.endswith(
        "--replace to re-date it (its session id stays)")  # no "earlier version of this file": it is this file
    assert status(session_id="long", start="2024-03-04T08:00:00Z", replace=True) == "processed"
    assert status(session_id="long", start="2024-03-04T08:00:00Z") == "skipped"
    assert status(session_id="easy", start="2024-03-04T08:00:00Z") == "skipped"
    assert sorted(p.name for p in (ds / "sessions" / "runner=ann").iterdir()) == ["session=easy"]


def test_a_csv_named_by_its_sidecar_is_read_again_with_another_mounting(tmp_path: Path):
    """A CSV whose ``<file>.csv.json`` sidecar names its runner and session but not its mounting is
    skipped when read with the same ``--mounting`` as the stored session, or none (a mounting given
    before is kept); another is read again."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from imuback.store.raw import raw_to_table
    from tests.batch.data import running_session

    raw = running_session("s1", "ann", minutes=0.5)
    table = raw_to_table(raw)
    root = tmp_path / "raw"
    root.mkdir()
    epoch_s = pa.array(raw.time_ns / 1e9)
    pacsv.write_csv(table.select([c for c in table.column_names if c != "time"]).add_column(0, "time", epoch_s),
                    root / "s1.csv")
    (root / "s1.csv.json").write_text(json.dumps({"imuback.runner_id": "ann", "imuback.session_id": "s1"}))
    ds, r = tmp_path / "ds", [[0, 0, -1], [0, 1, 0], [1, 0, 0]]

    def status(**kw: object) -> str:
        (o,) = run_batch([root], dataset=ds, workers=1, **kw).outcomes
        assert o.status != "failed", o.message
        return o.status

    assert status() == "processed"
    assert status() == "skipped"
    assert status(mounting=r) == "processed"
    assert status(mounting=r) == "skipped"
    assert status() == "skipped"  # none given: the one given before is kept (pipeline._keep_given)
    assert status(mounting=np.eye(3).tolist()) == "processed"  # another given replaces it



def test_a_batch_start_dates_every_file_that_states_none(tmp_path: Path, capsys):
    """``batch --start`` is the start of every input timed from its start, as ``--runner`` is the runner
    of every input naming none (review 34 #2: Xsens exports without UTC columns could not be batched):
    each keeps its own session id (file name + start); a file that dates its samples itself (Xsens with
    UTC columns, raw Parquet, .cwa) keeps its own start, said under warnings. Another --start later is
    each file's re-dating, refused per file ("--replace to re-date it") and done with --replace."""
    import imuback
    from imuback.store.raw import write_raw
    from imuback.store.warnings_table import read_warnings
    from tests.formats.test_xsens import _export, _utc_columns

    root = tmp_path / "raw"
    root.mkdir()
    for name, n in (("1-1_lb.txt", 3000), ("1-2_lb.txt", 3100), ("2-1_lb.txt", 3200)):
        _export(root / name, np.arange(n))  # three recordings (not copies: those would be one session)
    _export(root / "dot.txt", np.arange(3000), extra=_utc_columns(3000))  # dated 2023-05-06T07:08:09.5Z
    write_raw(root / "own.parquet", imuback.simulate(minutes=0.5, seed=3, runner_id="ann"))
    _cwa(root / "ax6.cwa")
    ds, start = tmp_path / "ds", "2024-03-04T09:00:00+01:00"  # 08:00Z: not the others' 07:00Z
    argv = ["batch", str(root), "--runner", "ann", "--start", start, "--dataset", str(ds), "--progress", "none"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "6 processed, 0 skipped (up to date), 0 failed" in out
    for name in ("dot.txt", "own.parquet", "ax6.cwa"):
        assert f"{root / name}: dates its samples itself (first sample at " in out
    assert f"; --start {start} applies only to files that state no start" in out
    rows = {r["session_id"]: r for r in imuback.open_dataset(ds).sessions.to_dict("records")}
    assert sorted(rows) == ["1-1_lb-20240304T080000Z", "1-2_lb-20240304T080000Z", "2-1_lb-20240304T080000Z",
                            "ann-sim3", "ax6-20240304T070000Z", "dot-20230506T070809Z"]
    assert rows["1-1_lb-20240304T080000Z"]["utc_offset_min"] == 60  # --start's offset: where it dates
    assert np.isnan(rows["dot-20230506T070809Z"]["utc_offset_min"])  # not the zone of a file it does not date
    said = read_warnings(ds).to_pylist()
    assert sorted(Path(w["source_path"]).name for w in said) == ["ax6.cwa", "dot.txt", "own.parquet"]

    assert main(argv) == 0 and "0 processed, 6 skipped" in capsys.readouterr().out  # up to date, nothing new
    later = run_batch([root], dataset=ds, workers=1, runner_id="ann", start="2024-03-04T09:00:00Z")
    failed = {Path(o.path).name: o for o in later.failures}
    assert sorted(failed) == ["1-1_lb.txt", "1-2_lb.txt", "2-1_lb.txt"]  # each its own re-dating
    assert all(o.error_type == "RedatedError" and o.message.endswith("--replace to re-date it (its session id stays)")
               for o in failed.values())
    again = run_batch([root], dataset=ds, workers=1, runner_id="ann", start="2024-03-04T09:00:00Z", replace=True)
    assert again.ok and again.counts["processed"] == 3
    dated = imuback.open_dataset(ds).sessions.set_index("session_id")["start_time"]
    assert str(dated["1-2_lb-20240304T080000Z"]) == "2024-03-04 09:00:00+00:00"  # re-dated, its id kept
    assert len(dated) == 6


def test_two_participants_data_mat_under_one_runner_are_told_to_take_a_runner_id_each(tmp_path: Path):
    """A batch cannot give a mobgap file's trials other session ids (review 34 #2): the refusal of the
    second participant's data.mat under the first's runner id advises a runner id per participant."""
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    for who, t0 in (("HA/001", T0_S), ("MS/001", T0_S + 3600)):
        (tmp_path / who).mkdir(parents=True)
        _write(tmp_path / who / "data.mat", {"TM1": {"Test1": {"Trial1": {"SU": {"LowerBack": _lower_back(20, t0)}}}}})
    summary = run_batch([tmp_path / "HA", tmp_path / "MS"], dataset=tmp_path / "ds", workers=1, runner_id="p")
    (failed,) = summary.failures
    assert failed.error_type == "DatasetError" and "HA/001/data.mat" in failed.message
    assert failed.message.endswith("give each participant their own runner id (--runner ID; in a batch, one run per "
                                   "participant's folder), or pass --replace (replace=True in Python) to replace the "
                                   "stored session with it")
    assert "another session id" not in failed.message
    assert run_batch([tmp_path / "MS"], dataset=tmp_path / "ds", workers=1, runner_id="ms001").ok
