"""The clinic page as a physical therapist uses it, in real Chromium against a real local server."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imuback.errors import ImubackError
from tests.serve.conftest import Server

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example-20240304-00.parquet"


def test_upload_see_the_session_open_its_report_and_add_a_note(browser: Any, clinic: Server,
                                                              tmp_path: Path) -> None:
    dataset = tmp_path / "clinic-ds"
    base = clinic(dataset)
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"outside request: {r.url}")
            if not r.url.startswith(base) else None)
    try:
        page.goto(base + "/")
        assert "No sessions yet" in page.inner_text("body")
        bad = tmp_path / "notes.txt"
        bad.write_text("not a recording")
        page.set_input_files("input[type=file]", [str(EXAMPLE), str(bad)])
        page.click("#upload button[type=submit]")
        page.wait_for_url(base + "/uploads")
        page.wait_for_selector("text=open the report", timeout=60_000)  # the page refreshes itself
        jobs = page.inner_text("table.jobs")
        assert "example-20240304-00.parquet" in jobs and "done" in jobs
        assert "notes.txt" in jobs and "not a file type imuback reads" in jobs
        page.goto(base + "/")
        page.click("table.runners a")  # the runner the upload made
        assert page.locator("table.sessions tbody tr").count() == 1
        row = page.inner_text("table.sessions tbody tr")
        assert "example-20240304-00" in row and "% of samples" in row
        # the Findings column counts NOTE-level findings as "info": "notes" on this page are the
        # runner's pain and effort notes (review 32: "3 notes" beside "No pain or effort notes")
        findings = page.inner_text("table.sessions tbody tr td:last-child")
        assert "info" in findings and "note" not in findings
        assert "No pain or effort notes" in page.inner_text("#notes")
        page.click("table.sessions a")
        assert page.title().startswith("imuback session report")
        assert "What stands out" in page.inner_text("body")
        page.go_back()
        page.fill("input[name=pain]", "3")
        page.fill("input[name=where]", "<script>alert(1)</script> right low back")
        page.fill("input[name=rpe]", "6")
        page.click("#add-note button[type=submit]")
        notes = page.inner_text("#notes")
        assert "3/10" in notes and "<script>alert(1)</script> right low back" in notes  # shown as text
        page.click("table.sessions a")
        assert "right low back" in page.inner_text("#notes")
    finally:
        page.close()
    assert problems == []
    stored = list((dataset / "uploads").rglob("*"))
    assert all(dataset in p.parents for p in stored)
    assert not list(dataset.rglob("notes.txt"))  # a refused upload is not kept


def _post(url: str, data: bytes, host: str | None = None) -> int:
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if host:
        req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_forms_from_other_sites_other_hosts_and_read_only_pages_are_refused(clinic: Server,
                                                                            tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    base = clinic(dataset)
    # no token: a page elsewhere posting into the clinic's dataset
    assert _post(base + "/runner/r1/notes", b"session=s&pain=3") == 403
    # DNS rebinding: a foreign host name pointed at 127.0.0.1
    req = urllib.request.Request(base + "/", headers={"Host": "evil.example"})
    try:
        urllib.request.urlopen(req)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 400
    shutil.copytree(dataset, tmp_path / "ro")
    ro = clinic(tmp_path / "ro", read_only=True)
    with urllib.request.urlopen(ro + "/") as resp:
        page = resp.read().decode()
    assert "uploads are off" in page and "type=\"file\"" not in page
    assert _post(ro + "/upload", b"csrf=x") == 403


def test_an_upload_over_the_size_limit_is_refused(clinic: Server, tmp_path: Path) -> None:
    base = clinic(tmp_path / "ds", max_upload_mb=0.01)
    assert _post(base + "/upload", b"csrf=x&" + b"a" * 20_000) == 413
    assert not (tmp_path / "ds" / "uploads").exists()


def test_a_runners_session_url_shows_that_runners_session(clinic: Server, tmp_path: Path) -> None:
    import dataclasses

    import imuback
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=1.0)
    ds = tmp_path / "ds"
    imuback.process(dataclasses.replace(raw, session_id="s1", runner_id="ann"), dataset=ds)
    imuback.process(dataclasses.replace(raw, session_id="s1", runner_id="bob",
                                        acc_mps2=raw.acc_mps2[::-1].copy()), dataset=ds)  # the same id
    base = clinic(ds)
    for runner in ("ann", "bob"):
        with urllib.request.urlopen(f"{base}/runner/{runner}/session/s1") as resp:
            assert f"{runner} — " in resp.read().decode()
    try:
        urllib.request.urlopen(f"{base}/runner/nobody/session/s1")
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 404


def test_a_non_ascii_form_token_is_refused_not_a_server_error(clinic: Server, tmp_path: Path) -> None:
    base = clinic(tmp_path / "ds")
    assert _post(base + "/upload", "csrf=é".encode()) == 403


def test_serving_on_every_address_is_refused(tmp_path: Path, capsys: Any) -> None:
    from imuback.cli import main

    assert main(["serve", "--dataset", str(tmp_path / "ds"), "--host", "0.0.0.0"]) == 2
    assert "listens on every address" in capsys.readouterr().err


def test_a_missing_dataset_folder_is_said_to_start_a_new_one(tmp_path: Path, capsys: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --dataset nope`` starts an empty dataset (a first run's uploads go there) and says so;
    an existing one is opened without the note."""
    import imuback.serve.app
    from imuback.cli import main

    served: list[Path] = []
    monkeypatch.setattr(imuback.serve.app, "serve", lambda dataset, **_kw: served.append(dataset))
    assert main(["serve", "--dataset", str(tmp_path / "nope")]) == 0
    err = capsys.readouterr().err
    assert "nope does not exist: starting a new, empty dataset there" in err and "Ctrl-C" in err
    (tmp_path / "ds").mkdir()
    assert main(["serve", "--dataset", str(tmp_path / "ds")]) == 0
    assert "does not exist" not in capsys.readouterr().err
    assert served == [tmp_path / "nope", tmp_path / "ds"]


def _phone_export(tmp_path: Path, *, speed_mps: float) -> Path:
    """A Sensor Logger zip of a simulated 2-minute run, with GPS fixes at ``speed_mps`` once a second."""
    import datetime as dt
    import zipfile

    import numpy as np

    from imuback.formats.sensorlogger import write_sensorlogger
    from imuback.simulate.runner import RunnerParams, simulate_session

    sim = simulate_session(RunnerParams(run_minutes=2.0, walk_breaks=0, sample_rate_hz=100.0), seed=5,
                           session_id="phone", runner_id="x", start_time=dt.datetime(2024, 3, 5, 7, tzinfo=dt.UTC))
    zpath = write_sensorlogger(sim.raw, tmp_path / "phone-run.zip", platform="android")
    t0 = int(sim.raw.time_ns[0])
    fixes = t0 + np.arange(0, int((sim.raw.time_ns[-1] - t0) // 1_000_000_000)) * 1_000_000_000
    rows = ["time,seconds_elapsed,speed,bearing,altitude,longitude,latitude"]
    rows += [f"{t},{(t - t0) / 1e9},{speed_mps},90,50,8.5,47.3" for t in fixes]
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("Location.csv", "\n".join(rows) + "\n")
    return zpath


def _upload(page: Any, base: str, files: list[Path], **fields: str) -> str:
    """Upload ``files`` with the form ``fields``; wait until nothing is processing; the jobs table."""
    page.goto(base + "/")
    page.set_input_files("input[type=file]", [str(f) for f in files])
    for name, value in fields.items():
        page.fill(f"input[name={name}]", value)
    page.click("#upload button[type=submit]")
    page.wait_for_url(base + "/uploads")
    page.wait_for_selector("table.jobs .tag-watch", state="detached", timeout=90_000)  # queued, processing
    return str(page.inner_text("table.jobs"))


def test_a_phone_export_uploaded_with_a_runner_id_shows_its_pace(browser: Any, clinic: Server,
                                                                 tmp_path: Path) -> None:
    dataset = tmp_path / "clinic-ds"
    base = clinic(dataset)
    export = _phone_export(tmp_path, speed_mps=3.0)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        jobs = _upload(page, base, [export])  # no runner: the export does not say whose run it is
        assert "error" in jobs and "does not say whose run it is: enter the runner id" in jobs
        assert not list((dataset / "uploads").rglob("*.zip"))  # a refused upload is not kept
        jobs = _upload(page, base, [export], runner="ann-01")
        assert "done" in jobs and "of runner ann-01" in jobs and "pace 5:33 min/km" in jobs  # 1000 / 3.0 s
        assert "1 done, 1 failed" in page.inner_text("p.progress")
        # another export (its GPS at another speed) as a treadmill run: the belt speed given wins. (The
        # same export again would be the stored session, its speed rewritten: review 32 #1, one recording
        # is one session.)
        (tmp_path / "belt").mkdir()
        belt = _phone_export(tmp_path / "belt", speed_mps=2.5)
        jobs = _upload(page, base, [belt], runner="ann-01", session="belt", speed_kmh="12")
        assert "session belt of runner ann-01" in jobs and "pace 5:00 min/km" in jobs
        page.goto(base + "/runner/ann-01")
        rows = page.locator("table.sessions tbody tr")
        assert rows.count() == 2
        table = page.inner_text("table.sessions")
        assert "5:33 min/km" in table and "5:00 min/km" in table
        page.click("table.sessions a >> text=belt")
        speed = page.inner_text("#speed")
        assert "treadmill belt speed given: 3.33 m/s (12.0 km/h)" in speed and "5:00 min/km" in speed
        page.go_back()
        page.locator("table.sessions a").filter(has_text="phone-run").click()
        assert "the phone's GPS" in page.inner_text("#speed")
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: the form and lists fit
        for path in ("/", "/runner/ann-01", "/uploads"):
            page.goto(base + path)
            assert page.locator("html").evaluate("e => e.scrollWidth - e.clientWidth") <= 0, path
    finally:
        page.close()


def test_upload_form_fields_are_checked(clinic: Server, tmp_path: Path) -> None:
    from imuback.serve.app import _upload_options

    with pytest.raises(ImubackError, match="runner id 'a b'"):
        _upload_options({"runner": "a b"}, n_files=1)
    with pytest.raises(ImubackError, match="names one session; upload one file"):
        _upload_options({"runner": "a", "session": "s"}, n_files=2)
    with pytest.raises(ImubackError, match="not a belt speed in km/h"):
        _upload_options({"runner": "a", "speed_kmh": "0"}, n_files=1)
    opts = _upload_options({"runner": "a", "speed_kmh": "10.8", "start": " 2024-03-04T07:00:00Z "}, n_files=1)
    assert opts.treadmill_speed_mps == pytest.approx(3.0) and opts.start == "2024-03-04T07:00:00Z"


def test_a_recording_uploaded_with_its_mounting_is_read_with_it(browser: Any, clinic: Server,
                                                               tmp_path: Path) -> None:
    """The upload form offers the command line's mountings (not stated, the imuback sensor as
    recommended, the chip's own axes, or a 3x3 matrix): a CSV uploaded with one is stored as
    ``mounting_source`` 'given', with that matrix; without one, 'assumed'."""
    import json

    from imuback.cli.mounting import RECOMMENDED_MOUNTING
    from imuback.report.queries import session_row
    from tests.report.conftest import _screenshot
    from tests.signal.analytic import half_sine_run

    raw = half_sine_run(minutes=0.5)[0]
    csv = tmp_path / "walk.csv"
    secs = (raw.time_ns - raw.time_ns[0]) / 1e9 + 1.7e9
    rows = ["time,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"] + [
        ",".join(f"{v:.6f}" for v in (t, *a, *g)) for t, a, g in zip(secs, raw.acc_mps2, raw.gyr_dps, strict=True)]
    csv.write_text("\n".join(rows) + "\n")
    dataset = tmp_path / "clinic-ds"
    base = clinic(dataset)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(base + "/")
        form = page.inner_text("#upload")
        assert "How the sensor was worn" in form and "finds the body's forward, left and up" in form
        assert page.locator("select[name=mounting]").input_value() == ""  # as the command line: none given
        _screenshot(page, "clinic_upload_mounting.png", tmp_path)
        for i, (session, choice, matrix) in enumerate((("given-rec", "recommended", ""),
                                                       ("given-json", "matrix", "[[0,0,-1],[0,1,0],[1,0,0]]"),
                                                       ("not-stated", "", ""))):
            # three recordings (an hour apart): one file's bytes are one session (review 32 #1)
            own = tmp_path / session / "walk.csv"
            own.parent.mkdir()
            own.write_text("\n".join(rows[:1] + [",".join([f"{float(r.split(',')[0]) + 3600 * i:.6f}",
                                                            *r.split(",")[1:]]) for r in rows[1:]]) + "\n")
            page.goto(base + "/")
            page.set_input_files("input[type=file]", [str(own)])
            page.fill("input[name=runner]", "ann-01")
            page.fill("input[name=session]", session)
            page.select_option("select[name=mounting]", choice)
            page.fill("input[name=mounting_matrix]", matrix)
            page.click("#upload button[type=submit]")
            page.wait_for_url(base + "/uploads")
            page.wait_for_selector("table.jobs .tag-watch", state="detached", timeout=90_000)
            assert f"session {session} of runner ann-01" in page.inner_text("table.jobs")
        page.goto(base + "/")
        page.set_input_files("input[type=file]", [str(csv)])
        page.fill("input[name=runner]", "ann-01")
        page.select_option("select[name=mounting]", "matrix")
        page.fill("input[name=mounting_matrix]", "[[1,0,0],[0,1,0],[0,0,-1]]")  # a reflection
        page.click("#upload button[type=submit]")
        assert "rotation matrix" in page.inner_text("body") and "Mounting" in page.inner_text("body")
    finally:
        page.close()
    rec, given, stated = (session_row(dataset, s, runner_id="ann-01")
                          for s in ("given-rec", "given-json", "not-stated"))
    assert rec["mounting_source"] == "given" and json.loads(rec["mounting_nominal"]) == RECOMMENDED_MOUNTING
    assert given["mounting_source"] == "given"
    assert json.loads(given["mounting_nominal"]) == [[0, 0, -1], [0, 1, 0], [1, 0, 0]]
    assert stated["mounting_source"] == "assumed"


def test_the_mounting_field_is_checked() -> None:
    from imuback.serve.app import _upload_options

    assert _upload_options({"runner": "a"}, n_files=1).mounting is None
    assert _upload_options({"runner": "a", "mounting": "identity"}, n_files=1).mounting == np.eye(3).tolist()
    with pytest.raises(ImubackError, match=r"Mounting 'Other' needs a 3x3 matrix"):
        _upload_options({"runner": "a", "mounting": "matrix"}, n_files=1)
    with pytest.raises(ImubackError, match=r"a mounting matrix was given; choose 'Other'"):
        _upload_options({"runner": "a", "mounting": "", "mounting_matrix": "[[1,0,0],[0,1,0],[0,0,1]]"}, n_files=1)
    with pytest.raises(ImubackError, match=r"Mounting matrix '\[1,2': not a JSON 3x3"):
        _upload_options({"runner": "a", "mounting": "matrix", "mounting_matrix": "[1,2"}, n_files=1)
