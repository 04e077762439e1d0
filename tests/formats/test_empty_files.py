"""A file with no samples says so in plain words (review 25 finding 11), however it is read:
``imuback process``, ``imuback batch`` (errors table) and the clinic page's upload."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from imuback.batch.runner import run_batch
from imuback.cli import main
from imuback.formats.sensorlogger import write_sensorlogger
from imuback.store.raw import write_raw
from tests.signal.analytic import half_sine_run

EXPECTED = {
    "header only.csv": "header only.csv: has no data rows (only its header line)",
    "zero bytes.csv": "zero bytes.csv: the file is empty",
    "no accelerometer rows.zip": "no accelerometer rows.zip: Accelerometer.csv has no data rows (only its header line)",
    "no rows.parquet": "no rows.parquet: the file has no samples (0 rows)",
}


@pytest.fixture
def empty_files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "header only.csv").write_text("time,acc_x,acc_y,acc_z\n")
    (folder / "zero bytes.csv").write_bytes(b"")
    raw, _ = half_sine_run(minutes=0.1)
    full = write_sensorlogger(raw, tmp_path / "full.zip")
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(folder / "no accelerometer rows.zip", "w") as out:
        for name in src.namelist():
            data = src.read(name)
            out.writestr(name, data.split(b"\n")[0] + b"\n" if name.endswith("Accelerometer.csv") else data)
    write_raw(folder / "no rows.parquet", dataclasses.replace(raw, time_ns=raw.time_ns[:0], acc_mps2=raw.acc_mps2[:0],
                                                             gyr_dps=raw.gyr_dps[:0]))
    return folder


def test_process_says_the_file_has_no_data(empty_files: Path, tmp_path: Path, capsys: Any) -> None:
    for name, words in EXPECTED.items():
        assert main(["process", str(empty_files / name), "--dataset", str(tmp_path / "ds"), "--runner", "ann"]) == 1
        assert f"error: {empty_files / name}" in (err := capsys.readouterr().err)
        assert words in err, err


def test_batch_records_each_empty_file_in_words(empty_files: Path, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    summary = run_batch([empty_files], dataset=ds, workers=1, runner_id="ann", progress="log", stream=io.StringIO())
    assert {Path(o.path).name: o.status for o in summary.outcomes} == dict.fromkeys(EXPECTED, "failed")
    rows = dict(duckdb.connect().execute(
        f"SELECT source_path, message FROM read_parquet('{ds}/errors/**/*.parquet')").fetchall())
    for name, words in EXPECTED.items():
        assert words in rows[str(empty_files / name)], rows[str(empty_files / name)]


def test_the_clinic_upload_says_the_file_has_no_data(empty_files: Path, tmp_path: Path) -> None:
    from imuback.serve.app import create_app
    from tests.serve.test_upload_messages import _finished, _upload

    app = create_app(tmp_path / "ds")
    client = app.test_client()
    client.jobs = app.extensions["imuback_jobs"]
    client.token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    try:
        files = [((empty_files / name).read_bytes(), name) for name in EXPECTED]
        assert _upload(client, files, runner="ann").status_code == 303
        by_name = {j.filename: j for j in _finished(client, len(EXPECTED))}
    finally:
        client.jobs.shutdown()
    for name, words in EXPECTED.items():
        job = by_name[name]
        assert job.status == "error" and job.message.startswith(words), job.message


def test_a_line_of_text_is_no_recording_header_before_it_is_an_empty_one(tmp_path: Path, capsys: Any) -> None:
    """Review 34, 11: a one-line file of words said 'has no data rows (only its header line)', as if it
    were a recording's header; its columns are what is wrong."""
    junk = tmp_path / "junk.csv"
    junk.write_text("not a recording\n")
    assert main(["process", str(junk), "--dataset", str(tmp_path / "ds"), "--runner", "ann"]) == 1
    err = capsys.readouterr().err
    assert "missing column(s) ['time', 'acc_x', 'acc_y', 'acc_z']; found ['not a recording']" in err, err
    assert "no data rows" not in err
