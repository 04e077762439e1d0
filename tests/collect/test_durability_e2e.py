"""Durability claims of docs/collector.md, tested as a user meets them (task 'durable').

The real recorder and host stack over the bumble virtual link, or the CLI in a child process.
Each test checks the books against the simulated sensor's own log where it has one: samples sent,
rows kept, samples reported lost (ring-buffer overflow on a loaded machine counted as lost).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imuback.cli import main
from imuback.cli.collect import losses_text
from imuback.errors import CollectError
from imuback.simulate.peripheral import Misbehaviour
from imuback.simulate.peripheral_server import serve
from imuback.simulated_recording import SimulatedRecording, record_simulated_async
from imuback.store.raw import read_raw

from .conftest import make_raw
from .test_record_e2e import check_books, row_indices, run

CLI = [sys.executable, "-m", "imuback.cli"]


def test_duplicate_notifications_lose_nothing(tmp_path: Path) -> None:
    raw = make_raw(rate_hz=208, seconds=30)
    faults = Misbehaviour(duplicate_frames=frozenset({40, 41, 300}))
    rec = run(raw, tmp_path, speedup=10, faults=faults)
    out = check_books(rec)  # every sent sample is a row, in order, with the value sent
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert lost == rec.sensor.log.overflow_samples
    r = rec.result.report
    assert r.bad_frames == 3 and r.resent_frames == 3  # each second copy is dropped as a re-send ...
    text = losses_text(r)  # ... and the summary does not call it damage
    assert "0 damaged packets" in text and "3 re-sent packets dropped (their samples already kept)" in text


def test_a_late_notification_is_kept_in_its_place(tmp_path: Path) -> None:
    # reordering firmware sends frames 100 and 250 (of 328) each after the frame that follows it; before,
    # the frame before each was dropped as "inconsistent" and its 19 samples were reported as
    # "lost notifications or sensor buffer overflow"
    raw = make_raw(rate_hz=208, seconds=30)
    lines: list[str] = []
    rec = run(raw, tmp_path, speedup=10, faults=Misbehaviour(late_frames=frozenset({100, 250})),
              status=lambda st: lines.append(st.line()))
    out = check_books(rec)  # every sent sample is a row, in order, with the value sent
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert lost == rec.sensor.log.overflow_samples
    r = rec.result.report
    assert r.bad_frames == 0 and r.late_frames == 2 and r.rows_dropped == 0
    # the live status agrees with the file (a late frame that straddles two drains included)
    assert f"{out.n_samples} samples, {lost} missing" in lines[-1], lines[-1]


def test_several_notifications_reordered_at_once_are_all_kept_in_their_place(tmp_path: Path) -> None:
    # firmware whose TX queue reorders several frames at once: 100 three late, 101 and 102 one and two
    # late (all three behind 103), a chain 200-203 each overtaken by the next ones, frame 160 four late
    # across a reconnect (the link drops at 15 s, frame ~164 at 208 Hz and 19 samples a frame)
    raw = make_raw(rate_hz=208, seconds=30)
    delayed = ((100, 3), (101, 1), (102, 2), (160, 4), (200, 4), (201, 3), (202, 2), (203, 1), (250, 2), (251, 2))
    lines: list[str] = []
    rec = run(raw, tmp_path, speedup=10, faults=Misbehaviour(delayed_frames=delayed, disconnects=((15.0, 1.0),)),
              status=lambda st: lines.append(st.line()))
    out = check_books(rec)  # every sent sample is a row, in order, with the value sent
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    log = rec.sensor.log
    assert lost == log.overflow_samples
    r = rec.result.report
    assert log.frames_sent_late() >= 8, log.send_order[95:110]  # the reorderings happened
    # frame 164 ends at 15.07 s, after the link drops at 15 s: frame 160 goes out on the next link
    assert log.send_order.index(160) > log.send_order.index(164) and r.reconnects == 1
    assert r.bad_frames == 0 and r.rows_dropped == 0 and r.late_frames == log.frames_sent_late()
    assert f"{out.n_samples} samples, {lost} missing" in lines[-1], lines[-1]


def test_u32_counter_wrap_mid_run_loses_nothing(tmp_path: Path) -> None:
    raw = make_raw(rate_hz=208, seconds=30)
    rec = run(raw, tmp_path, speedup=10, faults=Misbehaviour(counter_start=2**32 - 208 * 12))
    out = check_books(rec)  # the counter wraps 12 s in
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert lost == rec.sensor.log.overflow_samples
    assert rec.result.report.bad_frames == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _record_then_signal(tmp: Path, sig: signal.Signals, *, rate: float = 416.0, after_s: float = 2.0
                        ) -> tuple[int | None, str, np.ndarray, np.ndarray, np.ndarray]:
    """``imuback record --hci tcp-client`` in a child, ``sig`` once it streamed ``after_s`` s.

    Returns (exit code, stderr, first sample and sample count of every frame the sensor sent
    intact, and each frame's age at the signal in wall seconds).
    """
    raw = make_raw(rate_hz=rate, seconds=120, session_id="src")

    async def scenario() -> tuple[int | None, str, np.ndarray, np.ndarray, np.ndarray]:
        port = _free_port()
        server = await serve(raw, hci=f"tcp-server:127.0.0.1:{port}", speedup=1.0)
        proc = await asyncio.create_subprocess_exec(
            *CLI, "record", "--hci", f"tcp-client:127.0.0.1:{port}", "--address", server.sensor.address,
            "--rate", str(int(rate)), "--out", str(tmp), "--session", "s1", "--runner", "r1", "--quiet",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        loop = asyncio.get_running_loop()
        log = server.sensor.log
        deadline = loop.time() + 60
        while not (log.frame_wall_s and loop.time() - log.frame_wall_s[0] > after_s):
            assert loop.time() < deadline and proc.returncode is None, "recorder never streamed"
            await asyncio.sleep(0.05)
        t_sig = loop.time()
        proc.send_signal(sig)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        await server.close()
        fates = np.array(log.frame_fate)
        sent = fates == "sent"
        return (proc.returncode, err.decode(), np.array(log.frame_first_idx)[sent], np.array(log.frame_k)[sent],
                t_sig - np.array(log.frame_wall_s)[sent])

    return asyncio.run(scenario())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_of_a_real_recorder_keep_everything_received(tmp_path: Path, sig: signal.Signals) -> None:
    rate = 416.0
    code, err, first, k, age = _record_then_signal(tmp_path, sig, rate=rate)
    assert code == 0 and "Traceback" not in err, err[-2000:]
    out = read_raw(tmp_path / "s1.parquet")
    assert not (tmp_path / "s1.journal").exists()
    rows = row_indices(out, rate) + int(first[0])
    sent = np.concatenate([np.arange(f, f + n) for f, n in zip(first, k, strict=True)])
    before = np.concatenate([np.arange(f, f + n) for f, n in zip(first[age > 0.5], k[age > 0.5], strict=True)])
    assert before.size > 400
    # every sample sent half a second before the signal is a row; no row the sensor did not send;
    # the rows and the reported gaps account for the whole span
    assert np.isin(before, rows).all(), f"{np.setdiff1d(before, rows).size} samples lost"
    assert np.isin(rows, sent).all()
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    assert out.n_samples + lost == int(rows[-1] - rows[0] + 1)


def test_kill9_then_the_next_record_recovers_the_journal_and_process_reads_it(tmp_path: Path) -> None:
    rate = 416.0
    code, _, first, k, age = _record_then_signal(tmp_path, signal.SIGKILL, rate=rate)
    assert code == -signal.SIGKILL
    journal = tmp_path / "s1.journal"
    assert journal.exists() and not (tmp_path / "s1.parquet").exists()
    # the next recording into the same folder turns the journal into the raw file first
    p = subprocess.run([*CLI, "record", "--simulate", "--minutes", "0.05", "--speedup", "20", "--quiet",
                        "--out", str(tmp_path), "--session", "s2", "--runner", "r1"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"recovered an interrupted recording: {tmp_path / 's1.parquet'}" in p.stdout
    assert not journal.exists() and (tmp_path / "s2.parquet").exists()
    out = read_raw(tmp_path / "s1.parquet")
    rows = row_indices(out, rate) + int(first[0])
    old = np.concatenate([np.arange(f, f + n) for f, n in zip(first[age > 1.0], k[age > 1.0], strict=True)])
    assert old.size > 400 and np.isin(old, rows).all(), "samples older than 1 s lost"
    # the recovered file is a raw session like any other: `imuback process` takes it
    assert main(["process", str(tmp_path / "s1.parquet"), "--dataset", str(tmp_path / "ds")]) == 0
    # and a new recording under the recovered session id never overwrites it
    size = (tmp_path / "s1.parquet").stat().st_size
    assert main(["record", "--simulate", "--minutes", "0.05", "--out", str(tmp_path), "--session", "s1",
                 "--quiet"]) == 2
    assert (tmp_path / "s1.parquet").stat().st_size == size


def _wait_for(path: Path, size: int, proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() or path.stat().st_size < size:
        assert time.monotonic() < deadline and proc.poll() is None, "the recorder never wrote its journal"
        time.sleep(0.1)


def test_two_recorders_into_one_folder_each_keep_their_own_session(tmp_path: Path) -> None:
    raw = make_raw(rate_hz=208, seconds=600, session_id="a", runner_id="r")

    async def go() -> tuple[SimulatedRecording, subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
        stop = asyncio.Event()
        a = asyncio.ensure_future(record_simulated_async(raw, tmp_path, speedup=5, stop=stop))
        while not (tmp_path / "a.journal").exists() or (tmp_path / "a.journal").stat().st_size < 20_000:
            assert not a.done(), "the first recorder never wrote its journal"
            await asyncio.sleep(0.05)
        args = [*CLI, "record", "--simulate", "--quiet", "--minutes", "0.05", "--speedup", "20", "--out", str(tmp_path)]
        # one given the same session id is refused; a second one starts while the first streams
        same = await asyncio.to_thread(subprocess.run, [*args, "--session", "a"], capture_output=True, text=True,
                                       timeout=60, check=False)
        b = await asyncio.to_thread(subprocess.run, [*args, "--session", "b"], capture_output=True, text=True,
                                    timeout=60, check=False)
        assert not a.done(), "the first recording ended before the second: nothing was tested"
        stop.set()
        return await a, same, b

    rec_a, same, b = asyncio.run(go())
    assert b.returncode == 0, b.stderr[-1000:]
    assert "recover" not in b.stdout + b.stderr  # the live journal was left alone
    # the same session id while the first recorder is live: said so, with who records it; never
    # advised to `imuback recover` (which fails on a live journal)
    assert same.returncode == 2 and "Traceback" not in same.stderr, same.stderr[-1000:]
    assert f"session 'a' is being recorded now by process {os.getpid()} on {socket.gethostname()}" in same.stderr
    assert "recover" not in same.stdout + same.stderr
    ra, rb = read_raw(rec_a.result.path), read_raw(tmp_path / "b.parquet")
    assert ra.session_id == "a" and rb.session_id == "b" and ra.n_samples > 1000 and rb.n_samples > 1000
    assert sum(int(g["samples_lost"]) for g in ra.gaps) == rec_a.sensor.log.overflow_samples
    assert not list(tmp_path.glob("*.journal*"))


def test_a_read_only_output_folder_is_refused_before_scanning(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    # a read-only file system where this process may mount one (root ignores permissions), else
    # a folder without write permission
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(disk)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:
        disk.chmod(0o555)
    try:
        p = subprocess.run([*CLI, "record", "--address", "AA:BB:CC:DD:EE:FF", "--runner", "r1", "--out", str(disk)],
                           capture_output=True, text=True, timeout=60, check=False)
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)
        disk.chmod(0o755)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert f"cannot write the journal into {disk}" in p.stderr and "no Bluetooth" not in p.stderr


# --- review 34: an existing raw file is never replaced by a recovery --------------------------------
@pytest.fixture(scope="module")
def full_and_killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A complete recording ``full.parquet``, and the journal of a recording of the same session id
    killed (SIGKILL) in another folder: both by ``imuback record --simulate`` (real recorder and host stack)."""
    base = tmp_path_factory.mktemp("review34")
    args = [*CLI, "record", "--simulate", "--quiet", "--session", "full"]
    subprocess.run([*args, "--minutes", "0.2", "--speedup", "20", "--out", str(base / "rec")],
                   capture_output=True, text=True, timeout=120, check=True)
    proc = subprocess.Popen([*args, "--minutes", "2", "--speedup", "5", "--out", str(base / "killed")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_for(base / "killed" / "full.journal", 40_000, proc)
    finally:
        proc.kill()
        proc.wait()
    return base / "rec" / "full.parquet", base / "killed" / "full.journal"


def _length(path: Path) -> str:
    """The recording's length as the summaries say it: first row to one period after the last."""
    raw = read_raw(path)
    m, s = divmod(round((raw.time_ns[-1] - raw.time_ns[0]) / 1e9 + 1 / raw.sample_rate_hz), 60)
    return f"{m} min {s:02d} s ({raw.n_samples} samples)"


NO_ZONE = ("has no time zone (a journal does not say where it was recorded): the reports show it in UTC unless "
           "`imuback process` is given --time-zone ZONE (e.g. Europe/Madrid)")


def test_recover_never_replaces_another_recording_of_its_session(
        full_and_killed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 34, 1 (repro A): recovering a killed recording's journal into a folder whose
    ``<session>.parquet`` is a complete recording replaced it (exit 0). Now: refused in one line, both
    kept; ``--new-session`` writes it beside as ``<session>-recovered``; the same journal again is
    "already recovered" (the same bytes), never a third file."""
    full_src, journal_src = full_and_killed
    rec, journal = tmp_path / "rec", tmp_path / "killed" / "full.journal"
    rec.mkdir()
    journal.parent.mkdir()
    full = Path(shutil.copy(full_src, rec / "full.parquet"))
    shutil.copy(journal_src, journal)
    before = full.read_bytes()
    assert main(["recover", str(journal), "--out", str(rec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {full} already exists and holds another recording; nothing was written and the "
                   f"journal {journal} is kept: `imuback recover {journal} --out {rec} --new-session` writes it "
                   "as session full-recovered, or give --out another folder"), err
    assert full.read_bytes() == before and journal.exists() and sorted(rec.iterdir()) == [full]
    # the way out: a new session beside it (the journal kept on request)
    assert main(["recover", str(journal), "--out", str(rec), "--new-session", "--keep"]) == 0
    new = rec / "full-recovered.parquet"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{new}: {_length(new)} recovered; "), lines
    assert lines[1:] == [f"{full} holds another recording, kept as it is: this journal's is session "
                         "full-recovered (full-recovered.parquet)", f"{new} {NO_ZONE}"]
    got = read_raw(new)
    assert got.session_id == "full-recovered" and got.n_samples != read_raw(full).n_samples
    assert full.read_bytes() == before and journal.exists()
    # the same journal again: that file holds exactly its recording, nothing written, the journal goes
    written = new.read_bytes()
    assert main(["recover", str(journal), "--out", str(rec), "--new-session"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{new}: {_length(new)} already recovered (the file holds exactly this journal's "
                          "recording; nothing written); "), out
    assert sorted(p.name for p in rec.iterdir()) == ["full-recovered.parquet", "full.parquet"]
    assert new.read_bytes() == written and full.read_bytes() == before and not journal.exists()


def test_recovering_a_journal_twice_is_already_recovered(full_and_killed: tuple[Path, Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    journal = Path(shutil.copy(full_and_killed[1], tmp_path / "full.journal"))
    assert main(["recover", str(journal), "--keep"]) == 0
    out = tmp_path / "full.parquet"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{out}: {_length(out)} recovered; ") and lines[1:] == [f"{out} {NO_ZONE}"], lines
    written = out.read_bytes()
    assert main(["recover", str(journal)]) == 0  # without --new-session: the same bytes are no conflict
    assert "already recovered" in capsys.readouterr().out
    assert out.read_bytes() == written and not journal.exists()


def test_record_recovers_a_journal_beside_another_recording_of_its_session_as_a_new_one(
        full_and_killed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 34, 1 and 3: the automatic recovery at the start of ``record`` replaced the complete file too.
    Now it writes the journal's recording under a free name, says so with the same counts as ``recover``,
    and records the new session."""
    full = Path(shutil.copy(full_and_killed[0], tmp_path / "full.parquet"))
    journal = Path(shutil.copy(full_and_killed[1], tmp_path / "full.journal"))
    before = full.read_bytes()
    assert main(["record", "--simulate", "--minutes", "0.05", "--speedup", "20", "--out", str(tmp_path),
                 "--session", "next", "--quiet"]) == 0
    new = tmp_path / "full-recovered.parquet"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"recovered an interrupted recording: {new}: {_length(new)} recovered; "), lines
    assert lines[1:3] == [f"{full} holds another recording, kept as it is: this journal's is session "
                          "full-recovered (full-recovered.parquet)", f"{new} {NO_ZONE}"]
    assert lines[3].startswith(f"{tmp_path / 'next.parquet'}: ")
    assert full.read_bytes() == before and read_raw(new).session_id == "full-recovered" and not journal.exists()


def test_a_file_put_where_the_recording_goes_is_never_replaced(tmp_path: Path) -> None:
    """A file of the session's name made while it records (it was refused at the start): the stop
    refuses to write over it and keeps the journal, naming the command that recovers it."""
    raw = make_raw(rate_hz=208, seconds=30, session_id="a", runner_id="r")
    theirs = b"a file copied here while recording"

    async def go() -> None:
        task = asyncio.ensure_future(record_simulated_async(raw, tmp_path, speedup=10))
        while not (tmp_path / "a.journal").exists():
            assert not task.done(), "the recorder never opened its journal"
            await asyncio.sleep(0.05)
        (tmp_path / "a.parquet").write_bytes(theirs)
        await task

    with pytest.raises(CollectError, match=r"a\.parquet already exists and holds another recording") as exc:
        asyncio.run(go())
    assert f"imuback recover {tmp_path / 'a.journal'} --new-session" in str(exc.value)
    assert (tmp_path / "a.parquet").read_bytes() == theirs and (tmp_path / "a.journal").exists()
