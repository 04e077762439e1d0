"""The clinic page: runners, their sessions, the reports, notes and uploads, on localhost.

Flask (a small, long-maintained WSGI framework: routing, form and multipart parsing, an upload
size limit, nothing we would otherwise write ourselves) served by waitress (pure Python, no
compiler, a production WSGI server). Pages are built with the reports' own HTML helpers, so every
user string is escaped the same way, and carry no external assets.

Safety: requests must name a local host (DNS rebinding), every form carries a per-process token
(another site cannot post into the clinic's dataset), uploads are size-limited, stored under
``<dataset>/uploads/<id>/`` with a cleaned name and never anywhere else, and ``read_only`` turns
uploads and notes off.
"""

from __future__ import annotations

import hmac
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Flask, Response, abort, redirect, request
from werkzeug.utils import secure_filename

from imuback.core import check_id
from imuback.errors import ImubackError, RawFormatError
from imuback.report.analysis import local_start, runner_context, session_flags
from imuback.report.html import CSP, Markup, definition_list, flags_text, join, page, section, table, tag
from imuback.report.metrics import count, duration_text, pace_text, percent_text
from imuback.report.notes import notes_table
from imuback.serve.jobs import Job, JobQueue, Progress, UploadOptions
from imuback.store.notes import add_note, read_notes

READS = (".parquet", ".csv", ".zip", ".mat", ".txt", ".tsv", ".h5", ".cwa", ".json")
"""File endings offered by the upload form's file chooser (a hint: the content decides)."""
FORMAT_NAMES = {"parquet": "raw Parquet file", "csv": "CSV file", "mobgap": "mobgap data.mat file",
                "xsens": "Xsens text export", "bids": "BIDS-motion file", "apdm": "APDM .h5 file",
                "sensorlogger": "Sensor Logger export", "phyphox": "phyphox export",
                "cwa": "Axivity .cwa file", "movesense": "Movesense log (.json)"}
"""Formats in words (imuback.formats.FORMATS)."""
NOT_READ = ("not a file type imuback reads: a raw Parquet or CSV file, a phone export (Sensor Logger or "
            "phyphox zip), a mobgap data.mat, an Xsens text export, a BIDS-motion .tsv, an APDM .h5, an "
            "Axivity .cwa or a Movesense log (.json) file")
_FORM_WORDS = (  # the command line's advice, as the upload form's fields (most specific first)
    (re.compile(r"drop --start(?: \(start= in Python\))?"), "leave the Start time empty"),
    (re.compile(r"--start (?=['\"])"), "the Start time "),  # --start 'x' is not an ISO 8601 time
    (re.compile(r"--start(?: (\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)))?"),  # the example kept, with its zone
     lambda m: f"the Start time field (e.g. {m[1] or '2024-03-04T07:00:00Z'})"),
    (re.compile(r"drop --(runner|session) \(\w+= in Python\)"), lambda m: f"clear the {m[1].title()} id field"),
    (re.compile(r"drop --mounting \(mounting= in Python\)"), "set How the sensor was worn to 'not stated'"),
    (re.compile(r"drop --time-zone \(time_zone= in Python\)"), "clear the Time zone field"),
    (re.compile(r"--time-zone unknown \(time_zone='unknown'\)"), "a Time zone of 'unknown'"),
    (re.compile(r"--time-zone (\S+) \("), r"the Time zone \1 ("),  # a zone given over the file's own
    (re.compile(r" \(--runner ID; in a batch, one run per participant's folder\), or pass --replace \(replace=True "
                r"in Python\) to replace the stored session with it"),  # a data.mat's trials: one runner id each
     " in the Runner id field (the clinic page does not replace a stored session)"),
    (re.compile(r"--runner(?: ID)?(?: \(runner_id= in Python\))?"), "the Runner id field"),
    (re.compile(r"--session(?: ID)?"), "the Session id field"),
    (re.compile(r"; name yours with --columns [^;]*"), "; give the file's columns these names (the upload form "
                                                       "cannot map other names)"),
    (re.compile(r"another session id, or pass --replace \(replace=True in Python\) to replace the stored session "
                r"with it"), "another session id in the Session id field (the clinic page does not replace a "
                             "stored session)"),
    (re.compile(r"pass --replace \(replace=True in Python\) to move the session there with its notes"),
     "it can be moved there with its notes on the command line (the clinic page does not move a stored session)"),
    (re.compile(r"'imuback process' \(imuback.read_sessions in Python\)"), "the upload form"),
    (re.compile(r"; or give the file's unit: --\w+-unit \S+ \(ColumnMapping \w+= in Python\)"),
     " (the upload form cannot convert units)"),
)
MOUNTING_CHOICES = (
    ("", "not stated"),
    ("recommended", "imuback sensor, as recommended"),
    ("identity", "sensor axes = body axes"),
    ("matrix", "Other: matrix below"),
    ("unknown", "forget the one given before"),
)
"""The upload form's mountings (value, words): those of ``imuback process --mounting``, defaulting as
it does to none given (sessions.mounting_source 'assumed')."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
PAGE_CSP = CSP.replace("form-action 'none'", "form-action 'self'")
"""The reports' CSP, with forms allowed to post back to the clinic page itself."""


def _process_upload(dataset: Path) -> Any:
    """The job queue's processor: tell the format, check the identity the file needs, process every
    session in it. A file that made no session, or whose sessions the dataset already held from an
    earlier upload of the same bytes, is removed from ``uploads/`` (the clinic keeps the original);
    its error, or that nothing new was stored, is shown.
    """
    def process(path: Path, filename: str, options: UploadOptions,
                progress: Progress) -> tuple[list[tuple[str, str, str]], str]:
        try:
            made, summary = read_and_store(path, options, progress)
        except ImubackError as exc:
            raise ImubackError(_for_the_web(str(exc), path=path, filename=filename, dataset=dataset)) from None
        return made, _for_the_web(summary, path=path, filename=filename, dataset=dataset)

    def read_and_store(path: Path, options: UploadOptions,
                       progress: Progress) -> tuple[list[tuple[str, str, str]], str]:
        from imuback.formats import detect_format
        from imuback.pipeline import collected_warnings, process_file_sessions

        progress("checking the file type")
        try:
            try:
                kind = detect_format(path)
            except RawFormatError:
                if path.stat().st_size == 0:  # the command line's words for it, not "not a file type"
                    raise RawFormatError(f"{path}: the file is empty") from None
                raise RawFormatError(NOT_READ) from None
            name = FORMAT_NAMES.get(kind, kind)
            identity = options.identity()  # raw Parquet's own ids, start, mounting: the form's must be the same
            if kind != "parquet" and options.runner_id is None:
                raise RawFormatError(f"this {name} does not say whose run it is: enter the runner id in the "
                                     "upload form and upload it again")
            progress(f"reading the {name} and finding every step")
            with collected_warnings() as said:  # a zone given over the file's own: the result says so
                results = process_file_sessions(path, dataset=dataset, identity=identity,
                                                treadmill_speed_mps=options.treadmill_speed_mps)
        except ImubackError:
            _discard(path)
            raise
        made = [r for r in results if not isinstance(r, ImubackError)]
        failed = [str(r) for r in results if isinstance(r, ImubackError)]
        if not made:
            _discard(path)
            raise ImubackError("; ".join(failed) or "the file holds no session")
        texts = []
        for res in made:
            s = res.summary
            pace = pace_text(s.get("median_pace_s_per_km"))
            texts.append(f"session {res.session_id} of runner {res.runner_id}: "
                         f"{count(s['n_run_steps'] or 0, 'running step')}, "
                         f"{count(s['n_walk_steps'] or 0, 'walking step')}; status {s['status']}; "
                         + (f"pace {pace}" if pace != "n/a" else "no pace: no speed source")
                         + (f"; {res.same_as}, from an earlier upload: nothing new stored"
                            if res.up_to_date and res.same_as else "; already in the clinic's dataset from an "
                            "earlier upload of the same file: nothing new stored" if res.up_to_date else ""))
        if not failed and all(r.up_to_date for r in made):
            _discard(path)  # the earlier upload of the same bytes is the one the sessions name
        summary = " ".join([*(f"{w}." for w in said), *([f"Not processed: {'; '.join(failed)}."] if failed else [])])
        return [(r.runner_id, r.session_id, t) for r, t in zip(made, texts, strict=True)], summary
    return process


def _for_the_web(text: str, *, path: Path, filename: str, dataset: Path) -> str:
    """A message for the clinic page: the uploaded file's own name, not the server's path to it; no
    other server path; the command line's advice as the upload form's fields.
    """
    text = text.replace(str(path), filename)
    text = re.sub(re.escape(str(dataset / "uploads")) + r"/[0-9a-f]+/", "", text)  # an earlier upload
    text = text.replace(str(dataset), "the clinic's dataset")
    for pattern, words in _FORM_WORDS:
        text = pattern.sub(words, text)
    return text


def _discard(path: Path) -> None:
    """Remove a saved upload's folder (``uploads/<id>/``, made for it alone)."""
    shutil.rmtree(path.parent, ignore_errors=True)


def create_app(dataset: Path, *, read_only: bool = False, max_upload_mb: float = 256.0,
               host: str = "127.0.0.1") -> Flask:
    """The clinic page's WSGI app over ``dataset`` (created if missing, unless ``read_only``)."""
    dataset = Path(dataset)
    if not read_only:
        dataset.mkdir(parents=True, exist_ok=True)
    app = Flask("imuback.serve")
    app.config["MAX_CONTENT_LENGTH"] = int(max_upload_mb * 1024 * 1024)
    token = secrets.token_urlsafe(32)
    jobs = JobQueue(_process_upload(dataset))
    app.extensions["imuback_jobs"] = jobs
    hosts = LOCAL_HOSTS | {host}

    def render(title: str, *content: object, refresh_s: int | None = None) -> Response:
        nav = tag("p", join([tag("a", "Runners", href="/"), " · ", tag("a", "Uploads", href="/uploads")]),
                  class_="nav")
        html = page(title=f"imuback clinic — {title}", body=join([nav, tag("h1", title), *content]),
                    generated=f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC", csp=PAGE_CSP)
        if refresh_s is not None:
            html = html.replace("<head>", f'<head><meta http-equiv="refresh" content="{refresh_s}">', 1)
        return _html(html)

    def form(action: str, *fields: object, submit: str, multipart: bool = False) -> Markup:
        extra = {"enctype": "multipart/form-data"} if multipart else {}
        return tag("form", join([tag("input", type="hidden", name="csrf", value=token), *fields,
                                 tag("button", submit, type="submit")]),
                   method="post", action=action, **extra)

    @app.before_request
    def _guard() -> None:
        if _host_name(request.host) not in hosts:
            abort(400, f"host {request.host!r} is not this clinic page's address")
        if request.method == "POST":
            if read_only:
                abort(403, "this clinic page is read-only (started with --read-only)")
            if not hmac.compare_digest(request.form.get("csrf", "").encode(), token.encode()):
                abort(403, "the form is out of date or came from another site: reload the page")

    @app.errorhandler(ImubackError)
    def _imuback_error(exc: ImubackError) -> tuple[Response, int]:
        return render("Not found", tag("p", str(exc))), 404

    @app.get("/")
    def runners() -> Response:
        from imuback.report import queries

        rows = []
        for rid in queries.runner_ids(dataset):
            df = queries.runner_sessions(dataset, rid)
            last = df.iloc[-1]
            rows.append([tag("a", rid, href=f"/runner/{rid}"), len(df),
                         f"{local_start(df).iloc[-1]:%d %b %Y}",
                         f"{last['completeness_pct']:.0f} %" if pd.notna(last["completeness_pct"]) else "n/a"])
        listing = (table(["Runner", "Sessions", "Latest session", "Latest data"], rows, cls="runners")
                   if rows else tag("p", "No sessions yet: upload a raw recording below."))
        return render("Runners", listing, _upload_form())

    def _upload_form() -> Markup:
        if read_only:
            return tag("p", "Read-only: uploads are off.", class_="note")
        return section("Upload recordings", form(
            "/upload", definition_list([
                ("Files", tag("input", type="file", name="files", multiple="multiple",
                              accept=",".join(READS), required="required")),
                ("Runner id", tag("input", type="text", name="runner", maxlength="64",
                                  pattern="[A-Za-z0-9._-]+", placeholder="e.g. ann-01")),
                ("Session id (optional)", tag("input", type="text", name="session", maxlength="64",
                                              pattern="[A-Za-z0-9._-]+",
                                              placeholder="default: file name and start time")),
                ("Start time, with its zone (optional)", tag("input", type="text", name="start", maxlength="40",
                                                             placeholder="2024-03-04T07:00:00Z")),
                ("Time zone where it was recorded (optional)", tag("input", type="text", name="time_zone",
                                                                   maxlength="64",
                                                                   placeholder="e.g. Europe/Madrid or +01:00")),
                ("Treadmill speed, km/h (optional)", tag("input", type="number", name="speed_kmh",
                                                         min="0.1", max="54", step="0.1")),
                ("How the sensor was worn (optional)", tag("select", join(
                    tag("option", words, value=value) for value, words in MOUNTING_CHOICES), name="mounting")),
                ("Mounting matrix (with Other)", tag("input", type="text", name="mounting_matrix", maxlength="200",
                                                     placeholder="[[0,0,-1],[0,1,0],[1,0,0]]")),
            ]), submit="Upload and process", multipart=True),
            tag("p", "Recordings imuback reads: raw Parquet or CSV, phone exports (Sensor Logger, phyphox), "
                     "mobgap data.mat, Xsens text, BIDS-motion, APDM .h5, Axivity .cwa, Movesense logs "
                     "(.json). The runner id is needed for every file that does not name its runner (all but "
                     "raw Parquet); the start time (one file at a time) for files timed from their start, such "
                     "as Movesense logs. Time zone: where the runs were recorded, so the reports put each on the "
                     "runner's own day (a file that states its zone keeps it unless one is given here; 'unknown' "
                     "forgets one given before). "
                     "Treadmill speed: the belt speed of a treadmill run, for pace "
                     "and stride length (phone exports with GPS have their own). How the sensor was worn: "
                     "leave it 'not stated' when unsure (the chip's axes are then assumed) — imuback finds "
                     "the body's forward, left and up "
                     "from the walking or running either way; stating it lets the report say how far "
                     "the sensor sat from how it was meant to be worn (a file that states it keeps its "
                     "own: raw Parquet; a BIDS file, a mobgap data.mat or a CSV with a sidecar refuse "
                     "another). 'imuback sensor': chip +y up, +z "
                     "backwards; 'sensor axes = body axes': x forward, y left, z up; Other: rows = body "
                     "forward, left, up in the sensor's axes (docs/frames.md). "
                     f"At most {max_upload_mb:g} MB at once; processed in the background.",
                class_="note"), sid="upload")

    @app.get("/runner/<runner_id>")
    def runner(runner_id: str) -> Response:
        from imuback.report import queries

        rid = check_id(runner_id, what="runner id", source="the clinic page")
        sessions = queries.runner_sessions(dataset, rid)
        ctx = runner_context(sessions, runner_id=rid)
        rows = []
        starts = local_start(sessions)  # the runner's own clock where the zone is known
        for row, start in zip(sessions.to_dict("records"), starts, strict=True):
            sid = str(row["session_id"])
            flags = [f for f in session_flags(row, ctx) if f.level != "quality"]
            quality = f"{row['completeness_pct']:.0f} % of samples" if pd.notna(row["completeness_pct"]) else "n/a"
            low = row.get("low_quality_step_pct")
            if low is not None and pd.notna(low):
                quality += f", {percent_text(low)} low-confidence steps"
            if row["status"] not in (None, "ok"):
                quality += f", {row['status']}"
            rows.append([f"{pd.Timestamp(start):%a %d %b %Y %H:%M}",
                         tag("a", sid, href=f"/runner/{rid}/session/{sid}"),
                         duration_text(row["duration_s"]), pace_text(row.get("median_pace_s_per_km")),
                         quality, flags_text(flags)])
        parts: list[object] = [
            tag("p", tag("a", "Trends report", href=f"/runner/{rid}/trends")),
            table(["Start (local; UTC without a zone)", "Session", "Length", "Pace", "Data quality", "Findings"],
                  rows, cls="sessions"),
            section("Pain and effort log", notes_table(read_notes(dataset, runner_id=rid), with_session=True),
                    sid="notes"),
        ]
        if not read_only:
            options = join(tag("option", s, value=s) for s in reversed(list(sessions["session_id"])))
            parts.append(section("Add a note", form(
                f"/runner/{rid}/notes",
                definition_list([
                    ("Session", tag("select", options, name="session")),
                    ("Pain 0–10", tag("input", type="number", name="pain", min="0", max="10")),
                    ("Where", tag("input", type="text", name="where", maxlength="200")),
                    ("Effort (RPE 1–10)", tag("input", type="number", name="rpe", min="1", max="10")),
                    ("Note", tag("textarea", "", name="text", rows="2", cols="40", maxlength="2000")),
                ]), submit="Save note"), sid="add-note"))
        return render(f"Runner {rid}", *parts)

    @app.get("/runner/<runner_id>/session/<session_id>")
    def session_report(runner_id: str, session_id: str) -> Response:
        from imuback.report.session import build_session_report

        rid = check_id(runner_id, what="runner id", source="the clinic page")
        sid = check_id(session_id, what="session id", source="the clinic page")
        return _html(build_session_report(dataset, sid, runner_id=rid))

    @app.get("/runner/<runner_id>/trends")
    def trends_report(runner_id: str) -> Response:
        from imuback.report.trends import build_trends_report

        return _html(build_trends_report(dataset, check_id(runner_id, what="runner id",
                                                           source="the clinic page")))

    @app.post("/runner/<runner_id>/notes")
    def new_note(runner_id: str) -> Any:
        rid = check_id(runner_id, what="runner id", source="the clinic page")
        f = request.form
        try:
            add_note(dataset, runner_id=rid, session_id=f.get("session", ""),
                     pain_0_10=_int(f.get("pain")), pain_where=f.get("where"),
                     rpe_1_10=_int(f.get("rpe")), text=f.get("text"))
        except ImubackError as exc:
            return render("Note not saved", tag("p", str(exc)),
                          tag("p", tag("a", "Back", href=f"/runner/{rid}"))), 400
        return redirect(f"/runner/{rid}#notes", code=303)

    @app.post("/upload")
    def upload() -> Any:
        files = [f for f in request.files.getlist("files") if f.filename]
        if not files:
            return render("Nothing uploaded", tag("p", "Choose one or more files first.")), 400
        try:
            options = _upload_options(request.form, n_files=len(files))
        except ImubackError as exc:
            return render("Nothing uploaded", tag("p", str(exc)), tag("p", tag("a", "Back", href="/"))), 400
        for f in files:
            shown = f.filename or "upload"
            name = secure_filename(shown) or "upload"
            folder = dataset / "uploads" / secrets.token_hex(8)
            folder.mkdir(parents=True)
            target = folder / name
            f.save(target)
            jobs.submit(target, shown, options)
        return redirect("/uploads", code=303)

    @app.get("/uploads")
    def uploads() -> Response:
        all_jobs = jobs.all()
        rows = [[j.filename, tag("span", j.status, class_=f"tag tag-{_status_class(j)}"), _job_text(j)]
                for j in all_jobs]
        states = [j.status for j in all_jobs]
        progress = ", ".join(f"{states.count(s)} {word}" for s, word in (
            ("done", "done"), ("processing", "processing"), ("queued", "waiting"), ("error", "failed"))
            if states.count(s))
        body = (join([tag("p", f"{count(len(all_jobs), 'file')}: {progress}"
                               + (" (this page refreshes itself)" if jobs.busy else ""), class_="progress"),
                      table(["File", "Status", "Result"], rows, cls="jobs")]) if rows
                else tag("p", "No uploads since the clinic page started."))
        return render("Uploads", body, _upload_form(), refresh_s=2 if jobs.busy else None)

    return app


def _host_name(host: str) -> str:
    """``127.0.0.1`` of ``127.0.0.1:8765``, ``[::1]`` of ``[::1]:8765``."""
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0]


def _upload_options(form: Any, *, n_files: int) -> UploadOptions:
    """The upload form's identity fields, checked (ImubackError naming the field)."""
    from imuback.pipeline import MAX_TREADMILL_SPEED_MPS

    def text(name: str) -> str | None:
        value = str(form.get(name, "")).strip()
        return value or None

    runner, session, start = text("runner"), text("session"), text("start")
    if runner is not None:
        check_id(runner, what="runner id", source="the upload form")
    if session is not None:
        check_id(session, what="session id", source="the upload form")
        if n_files > 1:
            raise ImubackError(f"the upload form: session id {session!r} names one session; upload one file "
                               f"with it (got {n_files}), or leave it empty")
    if start is not None and n_files > 1:
        raise ImubackError(f"the upload form: start time {start!r} is the time of one file's first sample; upload "
                           f"one file with it (got {n_files}), or leave it empty")
    zone = text("time_zone")
    from imuback.formats.zone import FORGET, parse_zone

    if zone is not None and zone != FORGET:  # unknown: forget the zone given before
        parse_zone(zone, src="the upload form", what="time zone")
    speed = None
    kmh = text("speed_kmh")
    if kmh is not None:
        try:
            speed = float(kmh) / 3.6
        except ValueError:
            speed = float("nan")
        top = MAX_TREADMILL_SPEED_MPS * 3.6
        if not 0.0 < speed * 3.6 < top:  # False for NaN
            raise ImubackError(f"the upload form: treadmill speed {kmh!r} is not a belt speed in km/h (above 0, "
                               f"below {top:g})")
    return UploadOptions(runner_id=runner, session_id=session, start=start, time_zone=zone, treadmill_speed_mps=speed,
                         mounting=_mounting(text("mounting"), text("mounting_matrix")))


def _mounting(choice: str | None, matrix: str | None) -> list[list[float]] | str | None:
    """The upload form's mounting: not stated (None), a name of ``NAMED_MOUNTINGS``, or Other with a
    JSON 3x3 rotation in the matrix field (ImubackError naming the field).
    """
    from imuback.formats.identity import NAMED_MOUNTINGS, parse_mounting
    from imuback.formats.zone import FORGET

    if choice not in (None, "matrix", FORGET, *NAMED_MOUNTINGS):
        raise ImubackError(f"the upload form: Mounting {choice!r} is not one of its choices")
    if matrix is not None and choice != "matrix":
        raise ImubackError("the upload form: a mounting matrix was given; choose 'Other' under How the sensor "
                           "was worn to use it, or clear the Mounting matrix field")
    if choice is None or choice == FORGET:  # forget: the file's own, else assumed
        return choice
    if choice == "matrix" and matrix is None:
        raise ImubackError("the upload form: Mounting 'Other' needs a 3x3 matrix in the Mounting matrix field, "
                           "e.g. [[0,0,-1],[0,1,0],[1,0,0]] for an Xsens at L5")
    try:
        return parse_mounting(matrix if choice == "matrix" else choice)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ImubackError(f"the upload form: Mounting matrix {matrix!r}: {exc}") from None


def _job_text(job: Job) -> Markup:
    """A finished upload: one line per session it made, each with its report's link, then what
    else there is to say; else the job's message.
    """
    if job.status == "done" and job.sessions:
        items = [tag("li", join([text, " — ", tag("a", "open the report", href=f"/runner/{rid}/session/{sid}")]))
                 for (rid, sid), text in zip(job.sessions, job.session_texts, strict=True)]
        return join([tag("ul", join(items), class_="made"),
                     tag("p", job.message, class_="made-note") if job.message else Markup("")])
    return Markup(tag("span", job.message))


def _status_class(job: Job) -> str:
    return {"done": "within", "error": "notable"}.get(job.status, "watch")


def _int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ImubackError(f"{value!r} is not a whole number") from None


def _html(html: str) -> Response:
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = PAGE_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def serve(dataset: Path, *, host: str = "127.0.0.1", port: int = 8765, read_only: bool = False,
          max_upload_mb: float = 256.0) -> None:
    """Serve the clinic page until interrupted (waitress)."""
    from waitress import serve as waitress_serve

    app = create_app(dataset, read_only=read_only, max_upload_mb=max_upload_mb, host=host)
    waitress_serve(app, host=host, port=port, threads=4, ident="imuback")
