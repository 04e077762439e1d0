"""The clinic page's upload checks and messages, through Flask's test client (no browser needed):
what a web user is told names the file they uploaded and the form's fields, never the server's
paths or the command line's flags.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imuback.serve.app import FORMAT_NAMES, READS, create_app
from imuback.serve.jobs import Job
from tests.formats.cwa_spec import write_cwa
from tests.signal.analytic import half_sine_run


@pytest.fixture
def clinic_client(tmp_path: Path) -> Any:
    app = create_app(tmp_path / "ds")
    client = app.test_client()
    client.dataset = tmp_path / "ds"
    client.jobs = app.extensions["imuback_jobs"]
    client.token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    yield client
    client.jobs.shutdown()


def _upload(client: Any, files: list[tuple[bytes, str]], **form: str) -> Any:
    data: dict[str, Any] = {"csrf": client.token, **form,
                            "files": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/upload", data=data, content_type="multipart/form-data")


def _finished(client: Any, n: int) -> list[Job]:
    for _ in range(600):
        jobs = client.jobs.all()
        if len(jobs) == n and all(j.status in ("done", "error") for j in jobs):
            return jobs
        time.sleep(0.05)
    raise AssertionError(f"jobs not finished: {client.jobs.all()}")


def _movesense_json() -> bytes:
    raw = half_sine_run(fs=104.0, minutes=0.1)[0]
    acc, gyr = raw.acc_mps2.astype(float), raw.gyr_dps.astype(float)
    def xyz(block: np.ndarray) -> list[dict[str, float]]:
        return [{"x": x, "y": y, "z": z} for x, y, z in block.tolist()]

    notes = [{"Timestamp": 1000 + round(i * 1000 / 104), "ArrayAcc": xyz(acc[i:i + 8]), "ArrayGyro": xyz(gyr[i:i + 8])}
             for i in range(0, len(acc) - 7, 8)]
    return json.dumps({"Meas": {"IMU6/104": notes}}).encode()


def test_a_start_time_with_several_files_is_refused(clinic_client: Any) -> None:
    resp = _upload(clinic_client, [(b"a", "a.csv"), (b"b", "b.csv")], runner="ann", start="2024-03-04T07:00:00Z")
    assert resp.status_code == 400
    assert "start time &#x27;2024-03-04T07:00:00Z&#x27; is the time of one file" in resp.get_data(as_text=True)
    assert clinic_client.jobs.all() == [] and not (clinic_client.dataset / "uploads").exists()


def test_the_form_and_its_messages_know_cwa_and_movesense(clinic_client: Any, tmp_path: Path) -> None:
    page = clinic_client.get("/").get_data(as_text=True)
    assert ".cwa" in READS and ".json" in READS and ".cwa,.json" in page and "Movesense" in page
    raw = half_sine_run(fs=100.0, minutes=0.1)[0]
    cwa = write_cwa(tmp_path / "x.cwa", acc_mps2=raw.acc_mps2.astype(float), gyr_dps=raw.gyr_dps.astype(float),
                    fs=100.0, start=dt.datetime(2024, 3, 4, 7))
    assert _upload(clinic_client, [(cwa.read_bytes(), "ax6 run.cwa")]).status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "error" and f"this {FORMAT_NAMES['cwa']} does not say whose run it is" in job.message


def test_upload_errors_name_the_uploaded_file_and_the_forms_fields(clinic_client: Any) -> None:
    csv = b"t,ax,ay,az\n0,0,0,9.8\n0.01,0,0,9.8\n"
    assert _upload(clinic_client, [(csv, "<b>my run.csv"), (_movesense_json(), "ms log.json")],
                   runner="ann").status_code == 303
    by_name = {j.filename: j for j in _finished(clinic_client, 2)}
    bad_csv, no_start = by_name["<b>my run.csv"], by_name["ms log.json"]
    for job in (bad_csv, no_start):
        assert job.status == "error" and job.message.startswith(job.filename + ":"), job.message
        assert str(clinic_client.dataset) not in job.message and "uploads" not in job.message
        assert not re.search(r"--[a-z]", job.message), job.message
    assert "missing column(s)" in bad_csv.message and "give the file's columns these names" in bad_csv.message
    assert "the Start time field" in no_start.message
    page = clinic_client.get("/uploads").get_data(as_text=True)
    assert "&lt;b&gt;my run.csv: missing column(s)" in page and "<b>my run" not in page


def test_a_movesense_log_with_a_start_time_is_processed(clinic_client: Any) -> None:
    assert _upload(clinic_client, [(_movesense_json(), "ms.json")], runner="ann",
                   start="2024-03-04T07:00:00Z").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "done" and np.size(job.sessions) == 2, job.message
    # the uploads page: one line per session, each with its own report link; no nested brackets
    page = clinic_client.get("/uploads").get_data(as_text=True)
    (made,) = re.findall(r'<ul class="made">(.*?)</ul>', page, flags=re.S)
    items = re.findall(r"<li>(.*?)</li>", made, flags=re.S)
    assert len(items) == 1 and items[0].startswith(f"{job.session_texts[0]} — <a href=")
    assert f'href="/runner/ann/session/{job.sessions[0][1]}">open the report</a>' in items[0]
    assert not re.search(r"\([^)]*\(", job.session_texts[0]), job.session_texts[0]


def test_server_paths_and_cli_advice_become_the_forms_words(tmp_path: Path) -> None:
    from imuback.serve.app import _for_the_web

    ds = tmp_path / "ds"
    saved = ds / "uploads" / "ab12cd34ef567890" / "ms_log.json"
    earlier = ds / "uploads" / "0123456789abcdef" / "old.csv"

    def web(text: str) -> str:
        return _for_the_web(text, path=saved, filename="ms log.json", dataset=ds)

    assert web(f"{saved}: --start '2024x' is not an ISO 8601 time") == \
        "ms log.json: the Start time '2024x' is not an ISO 8601 time"
    # the reader's own example keeps its zone (a BIDS acq_time without Z: the offset where it was recorded)
    assert web(f"{saved}: acq_time '2023-01-02T03:04:05.25' in the *_scans.tsv has no Z, ...; give the first "
               "sample's time with its zone (--start 2023-01-02T03:04:05.25+01:00, ISO 8601)") == (
        "ms log.json: acq_time '2023-01-02T03:04:05.25' in the *_scans.tsv has no Z, ...; give the first sample's "
        "time with its zone (the Start time field (e.g. 2023-01-02T03:04:05.25+01:00), ISO 8601)")
    assert web(f"{saved}: give --start 2024-03-04T07:00:00Z") == \
        "ms log.json: give the Start time field (e.g. 2024-03-04T07:00:00Z)"
    # a CSV sidecar's conflict: the form's field, not "the command line"
    assert web(f"{saved}: ms_log.json.json gives imuback.runner_id = 'ann', not the 'bob' given; drop --runner "
               "(runner_id= in Python) or correct ms_log.json.json") == (
        "ms log.json: ms_log.json.json gives imuback.runner_id = 'ann', not the 'bob' given; clear the Runner id "
        "field or correct ms_log.json.json")
    assert web(f"{saved}: no runner id; give --runner ID (runner_id= in Python)") == \
        "ms log.json: no runner id; give the Runner id field"
    text = web(f"{saved}: session 's' is already in {ds}, made from other bytes ({earlier}, SHA-256 ab...); give "
               "this recording another session id, or pass --replace (replace=True in Python) to replace the "
               "stored session with it")
    assert text == ("ms log.json: session 's' is already in the clinic's dataset, made from other bytes (old.csv, "
                    "SHA-256 ab...); give this recording another session id in the Session id field (the clinic "
                    "page does not replace a stored session)")
    # the CSV reader's unit flag is the command line's; the form has no unit field
    assert web(f"{saved}: acceleration looks like it is in g (median |acc| = 1.02); the raw contract wants m/s²: "
               "multiply acc_x/y/z by 9.80665; or give the file's unit: --acc-unit g (ColumnMapping acc_unit= in "
               "Python)") == ("ms log.json: acceleration looks like it is in g (median |acc| = 1.02); the raw "
                              "contract wants m/s²: multiply acc_x/y/z by 9.80665 (the upload form cannot convert "
                              "units)")


def test_a_mobgap_file_uploaded_with_another_mounting_is_refused_in_the_forms_words(clinic_client: Any,
                                                                                      tmp_path: Path) -> None:
    """A file that states its mounting keeps it: another one chosen in the form is refused naming both."""
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    mat = _write(tmp_path / "data.mat", {"TimeMeasure1": {"Test5": {"Trial1": {"SU": {
        "LowerBack": _lower_back(5, T0_S)}}}}}).read_bytes()
    assert _upload(clinic_client, [(mat, "data.mat")], runner="ann", mounting="recommended").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "error", job.message
    assert job.message.startswith("data.mat (TimeMeasure1_Test5_Trial1): a Mobilise-D data.mat states the "
                                  "standard's lower-back mounting [[0.0, 0.0, 1.0]"), job.message
    assert job.message.endswith("given; set How the sensor was worn to 'not stated'"), job.message
    assert not re.search(r"--[a-z]|in Python", job.message), job.message


def test_a_second_participants_data_mat_under_one_runner_id_is_told_to_take_another(clinic_client: Any,
                                                                                      tmp_path: Path) -> None:
    """A data.mat names its sessions after its trials: another participant's under the same runner id is
    refused advising a runner id per participant, in the form's words (not another session id, which
    the Session id field cannot give it: it picks a trial)."""
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    for i, t0 in enumerate((T0_S, T0_S + 3600)):
        (tmp_path / str(i)).mkdir()
        mat = _write(tmp_path / str(i) / "data.mat", {"TM1": {"Test5": {"Trial1": {"SU": {
            "LowerBack": _lower_back(20, t0, seed=i)}}}}}).read_bytes()
        assert _upload(clinic_client, [(mat, "data.mat")], runner="ann").status_code == 303
        jobs = _finished(clinic_client, i + 1)
    assert sorted(j.status for j in jobs) == ["done", "error"]  # the first participant's stored, the second not
    (message,) = [j.message for j in jobs if j.status == "error"]
    assert "session 'TM1_Test5_Trial1' of runner 'ann' is already in the clinic's dataset, made from other bytes " \
           "(data.mat, SHA-256 " in message, message
    assert message.endswith("give each participant their own runner id in the Runner id field (the clinic page "
                            "does not replace a stored session)"), message
    assert not re.search(r"--[a-z]|in Python|another session id", message), message


def _run_csv() -> bytes:
    """18 s of analytic running as a CSV without ids (time s, acc m/s^2)."""
    raw = half_sine_run(minutes=0.3)[0]
    cols = np.column_stack([raw.time_ns / 1e9, raw.acc_mps2])
    return ("time,acc_x,acc_y,acc_z\n" + "\n".join(",".join(f"{v:.5f}" for v in row) for row in cols)).encode()


def test_a_stored_recording_uploaded_under_another_runner_is_refused_and_stays(clinic_client: Any) -> None:
    csv = _run_csv()
    assert _upload(clinic_client, [(csv, "run.csv")], runner="ann").status_code == 303
    (first,) = _finished(clinic_client, 1)
    assert first.status == "done", first.message
    assert _upload(clinic_client, [(csv, "run.csv")], runner="bob").status_code == 303
    second = next(j for j in _finished(clinic_client, 2) if j.job_id != first.job_id)
    assert second.status == "error"
    assert "under runner 'ann'" in second.message and "not filed again under runner 'bob'" in second.message
    assert "the clinic page does not move a stored session" in second.message
    assert second.message.endswith("(the clinic page does not move a stored session); else it stays under runner "
                                   "'ann' and nothing needs doing"), second.message
    assert not re.search(r"--[a-z]", second.message), second.message
    sessions = clinic_client.dataset / "sessions"
    assert sorted(p.name for p in sessions.iterdir()) == ["runner=ann"]


def test_a_raw_parquet_file_uploaded_with_a_mounting_keeps_its_own_or_is_refused(clinic_client: Any,
                                                                                 tmp_path: Path) -> None:
    """As ``process`` and ``batch``: raw Parquet states its mounting; the same one in the form is
    accepted (stored as the file's), another refused naming both, in the form's words."""
    import imuback
    from imuback.store.dataset import read_table
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=0.3, seed=4, runner_id="ann")
    assert np.allclose(raw.mounting, np.eye(3))  # the simulator's default: its own axes
    data = write_raw(tmp_path / "s.parquet", raw).read_bytes()
    assert _upload(clinic_client, [(data, "s.parquet")], mounting="recommended").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "error", job.message
    assert job.message.startswith("s.parquet: the file's imuback.mounting is [[1.0, 0.0, 0.0]"), job.message
    assert "not the [[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] given; set How the sensor was worn " \
           "to 'not stated'" in job.message
    assert not re.search(r"--[a-z]|in Python", job.message), job.message
    assert _upload(clinic_client, [(data, "s.parquet")], mounting="identity").status_code == 303
    (again,) = [j for j in _finished(clinic_client, 2) if j.job_id != job.job_id]
    assert again.status == "done", again.message
    assert read_table(clinic_client.dataset, "sessions")["mounting_source"].to_pylist() == ["file"]


def test_a_raw_parquet_file_uploaded_with_another_runner_session_or_start_is_refused(clinic_client: Any,
                                                                                    tmp_path: Path) -> None:
    """As ``process`` and ``batch``: raw Parquet names its own runner, session and start; the form's,
    if given, must be the same (accepted silently), another is refused naming both, in the form's words."""
    import dataclasses

    import imuback
    from imuback.store.dataset import read_table
    from imuback.store.raw import write_raw

    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=4, runner_id="ann"), session_id="s1")
    data = write_raw(tmp_path / "s.parquet", raw).read_bytes()
    refused = {"runner": ("bob", "the file's imuback.runner_id is 'ann', not the 'bob' given; clear the Runner id "
                                 "field"),
               "session": ("s2", "the file's imuback.session_id is 's1', not the 's2' given; clear the Session id "
                                 "field"),
               "start": ("2024-01-01T00:00:00Z", "the file's first sample is at 2024-03-04T07:00:00Z, not the "
                                                 "2024-01-01T00:00:00Z given; leave the Start time empty")}
    seen: set[str] = set()

    def newest(n: int) -> Job:
        (job,) = [j for j in _finished(clinic_client, n) if j.job_id not in seen]
        seen.add(job.job_id)
        return job

    for n, (field, (value, says)) in enumerate(refused.items(), start=1):
        assert _upload(clinic_client, [(data, "s.parquet")], **{field: value}).status_code == 303
        job = newest(n)
        assert job.status == "error" and job.message == f"s.parquet: {says}", job.message
    assert _upload(clinic_client, [(data, "s.parquet")], runner="ann", session="s1",
                   start="2024-03-04T08:00:00+01:00").status_code == 303
    job = newest(4)
    assert job.status == "done" and "not used" not in job.message, job.message
    assert read_table(clinic_client.dataset, "sessions").select(["runner_id", "session_id"]).to_pylist() == \
        [{"runner_id": "ann", "session_id": "s1"}]


@pytest.mark.parametrize("zone", ["America", "x" * 300])
def test_a_bad_time_zone_is_refused_by_the_form_not_a_server_error(clinic_client: Any, zone: str) -> None:
    """A region folder (``America``) or a zone longer than the form's maxlength, posted anyway, is
    the form's one-line refusal (400), never a 500 from the zone database."""
    resp = _upload(clinic_client, [(b"a", "a.csv")], runner="ann", time_zone=zone)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "is not a time zone" in page and "Traceback" not in page
    assert clinic_client.jobs.all() == [] and not (clinic_client.dataset / "uploads").exists()


def test_an_upload_with_a_time_zone_stores_its_offset(clinic_client: Any, tmp_path: Path) -> None:
    """The form's time zone reaches the reader: its offset at the first sample is stored."""
    import imuback
    from imuback.store.dataset import read_table
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=0.3, seed=4, runner_id="ann")
    assert raw.utc_offset_min is None  # the file says nothing of where it was recorded
    data = write_raw(tmp_path / "s.parquet", raw).read_bytes()
    assert _upload(clinic_client, [(data, "s.parquet")], time_zone="Asia/Kolkata").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "done", job.message
    assert read_table(clinic_client.dataset, "sessions")["utc_offset_min"].to_pylist() == [330]


def test_a_raw_parquet_file_uploaded_with_another_time_zone_is_refused_in_the_forms_words(clinic_client: Any,
                                                                                          tmp_path: Path) -> None:
    """As ``process``: a raw file stating its zone keeps it; another zone in the form is refused."""
    import dataclasses

    import imuback
    from imuback.store.dataset import read_table
    from imuback.store.raw import write_raw

    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=4, runner_id="ann"), utc_offset_min=60)
    data = write_raw(tmp_path / "s.parquet", raw).read_bytes()
    assert _upload(clinic_client, [(data, "s.parquet")], time_zone="Asia/Kolkata").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "error" and job.message == (
        "s.parquet: the file's imuback.utc_offset_min is 60 (UTC+01:00, where it was recorded), not the "
        "'Asia/Kolkata' (UTC+05:30 at its first sample) given; clear the Time zone field"), job.message
    assert _upload(clinic_client, [(data, "s.parquet")], time_zone="Europe/Paris").status_code == 303
    assert all(j.status == "done" for j in _finished(clinic_client, 2) if j.job_id != job.job_id)
    assert read_table(clinic_client.dataset, "sessions")["utc_offset_min"].to_pylist() == [60]


def test_a_zone_given_over_the_files_own_is_said_and_unknown_forgets_it(clinic_client: Any, tmp_path: Path) -> None:
    """As ``process``: the Time zone given over a CSV's own +05:00 is said on the file's result, in the
    form's words; a Time zone and a mounting of 'unknown' forget what was given (the file's own again)."""
    from imuback.store.dataset import read_table
    from tests.test_zone_source import write_karachi_csv

    data = write_karachi_csv(tmp_path / "run.csv", rows=5000).read_bytes()  # small: no spooled upload
    assert _upload(clinic_client, [(data, "run.csv")], runner="cy", time_zone="Europe/Madrid").status_code == 303
    (job,) = _finished(clinic_client, 1)
    assert job.status == "done", job.message
    assert job.message == "run.csv: the Time zone Europe/Madrid (+01:00) used, not the file's own +05:00."
    assert _upload(clinic_client, [(data, "run.csv")], runner="cy", time_zone="unknown",
                   mounting="unknown").status_code == 303
    (again,) = [j for j in _finished(clinic_client, 2) if j.job_id != job.job_id]
    assert again.status == "done" and again.message == "", again.message
    zone = read_table(clinic_client.dataset, "sessions").select(["utc_offset_min", "utc_offset_source"])
    assert zone.to_pylist() == [{"utc_offset_min": 300, "utc_offset_source": "file"}]


def test_the_same_file_uploaded_again_says_nothing_new_was_stored_and_keeps_one_copy(clinic_client: Any) -> None:
    """A second upload of the same bytes under the same runner: done, its result says the session was
    in the dataset already and nothing new was stored, and the duplicate upload is not kept."""
    csv = _run_csv()
    assert _upload(clinic_client, [(csv, "run.csv")], runner="ann").status_code == 303
    (first,) = _finished(clinic_client, 1)
    assert first.status == "done", first.message
    assert "nothing new stored" not in first.session_texts[0]
    assert _upload(clinic_client, [(csv, "run.csv")], runner="ann").status_code == 303
    second = next(j for j in _finished(clinic_client, 2) if j.job_id != first.job_id)
    assert second.status == "done", second.message
    assert second.sessions == first.sessions
    assert second.session_texts[0].endswith("already in the clinic's dataset from an earlier upload of the same "
                                            "file: nothing new stored"), second.session_texts
    assert len(list((clinic_client.dataset / "uploads").iterdir())) == 1


def test_the_same_file_uploaded_under_another_name_is_the_stored_session(clinic_client: Any) -> None:
    """Review 32 #1: a copy renamed (``Morning run.csv``) was stored as a second session. Now: the
    stored session, nothing new stored, the upload not kept; under another runner, refused."""
    csv = _run_csv()
    assert _upload(clinic_client, [(csv, "run.csv")], runner="ann").status_code == 303
    (first,) = _finished(clinic_client, 1)
    assert first.status == "done", first.message
    assert _upload(clinic_client, [(csv, "Morning run.csv")], runner="ann").status_code == 303
    second = next(j for j in _finished(clinic_client, 2) if j.job_id != first.job_id)
    assert second.status == "done", second.message
    assert second.sessions == first.sessions
    sid = first.sessions[0][1]
    assert second.session_texts[0].endswith(f"the same recording is already stored as session {sid} (from run.csv), "
                                            "from an earlier upload: nothing new stored"), second.session_texts
    assert len(list((clinic_client.dataset / "uploads").iterdir())) == 1
    assert _upload(clinic_client, [(csv, "run (1).csv")], runner="bob").status_code == 303
    third = next(j for j in _finished(clinic_client, 3) if j.job_id not in (first.job_id, second.job_id))
    assert third.status == "error" and "under runner 'ann'" in third.message, third.message
    assert sorted(p.name for p in (clinic_client.dataset / "sessions").iterdir()) == ["runner=ann"]
