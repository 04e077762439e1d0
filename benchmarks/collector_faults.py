"""The collector's books under faults: for each fault, samples sent, kept, and reported lost.

Every case records a simulated sensor over the bumble virtual link with the real recorder (or runs
the ``imuback`` CLI in a child process) and counts from the sensor's own log and the written file:

- sent: samples in the frames the sensor sent intact (a corrupted frame's samples are not "sent");
- kept: rows in the raw file;
- lost: samples the gap log reports missing (bad frames, the outage of a reconnect, a reboot);
- never: samples the sensor formed but did not send intact (corrupted, dropped, overwritten).

Run: ``python benchmarks/collector_faults.py`` (root is needed for the full-disk case's tmpfs;
without it that case uses RLIMIT_FSIZE). The figures in docs/collector.md come from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from imuback.collect.assemble import finalize_journal
from imuback.simulate.peripheral import Misbehaviour
from imuback.simulate.peripheral_data import synthetic_raw
from imuback.simulate.peripheral_polar import POLAR_EPOCH_OFFSET_NS
from imuback.simulated_recording import SimulatedRecording, record_simulated_async
from imuback.store.raw import read_raw

CLI = [sys.executable, "-m", "imuback.cli"]


def books(rec: SimulatedRecording, *, polar: bool) -> tuple[int, int, int, int]:
    """(sent, kept, lost, never) for a simulated recording (Polar: the ACC frames, which make rows)."""
    out = read_raw(rec.result.path)
    log = rec.sensor.log
    fates = np.array(log.frame_fate)
    k = np.array(log.frame_k)
    rows = np.arange(fates.size) % 2 == 0 if polar else np.ones(fates.size, bool)
    sent = int(k[rows & (fates == "sent")].sum())
    never = int(k[rows & (fates != "sent")].sum()) + log.overflow_samples
    lost = sum(int(g["samples_lost"]) for g in out.gaps)
    return sent, out.n_samples, lost, never


def simulated(name: str, faults: Misbehaviour, *, sensor: str, rate_hz: float, speedup: float,
              seconds: float = 40.0, late: bool = False) -> None:
    raw = synthetic_raw(minutes=seconds / 60.0, rate_hz=rate_hz, session_id="f", runner_id="r")
    with tempfile.TemporaryDirectory() as tmp:
        rec = asyncio.run(record_simulated_async(raw, Path(tmp), speedup=speedup, sensor=sensor, faults=faults))
        sent, kept, lost, never = books(rec, polar=sensor == "polar")
        r = rec.result.report
    print(f"{name:48s} sent {sent:6d}  kept {kept:6d}  reported lost {lost:5d}  "
          f"(not sent intact {never:5d}; bad frames {r.bad_frames}, reconnects {r.reconnects})")
    if late:  # frames sent late (the sensor's own send order) against the report
        print(f"{'':48s} sent late {rec.sensor.log.frames_sent_late()}, late_frames {r.late_frames}, "
              f"lost by reason {r.lost_by_reason}")


@contextlib.contextmanager
def small_disk(path: Path, size_kib: int) -> object:
    path.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
                        capture_output=True, check=False).returncode == 0
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", str(path)], check=False)


def _limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))


def full_disk() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk"
        with small_disk(disk, 200) as tmpfs:
            t0 = time.monotonic()
            p = subprocess.run([*CLI, "record", "--simulate", "--minutes", "3", "--rate", "416", "--speedup", "40",
                                "--out", str(disk), "--session", "full", "--quiet"], capture_output=True, text=True,
                               check=False, preexec_fn=None if tmpfs else _limit)
            wall = time.monotonic() - t0
            saved = Path(tmp) / "saved.journal"
            shutil.copy(disk / "full.journal", saved)
        _, rep = finalize_journal(saved)
        print(f"{'full disk (' + ('200 KiB tmpfs' if tmpfs else 'RLIMIT_FSIZE 200 KiB') + ')':48s} "
              f"exit {p.returncode} after {wall:.1f} s: {p.stderr.strip().splitlines()[-1][:150]}...")
        print(f"{'':48s} journal recovered elsewhere: kept {rep.n_samples}, reported lost {rep.samples_lost}")


def corrupted_journal() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        proc = subprocess.Popen([*CLI, "record", "--simulate", "--minutes", "20", "--speedup", "5",
                                 "--out", str(out), "--session", "k", "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = out / "k.journal"
        while not journal.exists() or journal.stat().st_size < 600_000:
            time.sleep(0.2)
        proc.kill()
        proc.wait()
        data = bytearray(journal.read_bytes())
        (out / "clean").mkdir()
        (out / "clean" / "k.journal").write_bytes(bytes(data))
        data[len(data) // 10] ^= 0x04
        journal.write_bytes(bytes(data))
        _, clean = finalize_journal(out / "clean" / "k.journal")
        _, bad = finalize_journal(journal)
        print(f"{'journal: one flipped bit 10 % in (after kill -9)':48s} in journal {clean.n_samples:6d}  "
              f"kept {bad.n_samples:6d}  reported lost {bad.samples_lost - clean.samples_lost:5d}  "
              f"(corrupt bytes {bad.corrupt_bytes}; journal kept: {bad.kept_journal is not None})")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    reboot = -(POLAR_EPOCH_OFFSET_NS / 1e9 + 15.0)
    simulated("Polar 52 Hz: one corrupted time stamp", Misbehaviour(bad_clock_frames=frozenset({40})),
              sensor="polar", rate_hz=52.0, speedup=10.0)
    simulated("Polar 52 Hz: clock step +1 h at 15 s", Misbehaviour(clock_steps=((15.0, 3600.0),)),
              sensor="polar", rate_hz=52.0, speedup=10.0)
    simulated("Polar 52 Hz: reboot at 15 s (2 s outage)",
              Misbehaviour(disconnects=((15.0, 2.0),), clock_steps=((15.0, reboot),)),
              sensor="polar", rate_hz=52.0, speedup=10.0)
    simulated("imuback 1600 Hz: two adjacent garbled headers", Misbehaviour(bad_clock_frames=frozenset({400, 401})),
              sensor="imuback", rate_hz=1600.0, speedup=1.5, seconds=20.0)
    simulated("Polar 52 Hz: stall 1.8 s (buffer overflows ~10)", Misbehaviour(stalls=((15.0, 1.8),)),
              sensor="polar", rate_hz=52.0, speedup=10.0)
    simulated("imuback 208 Hz: frames 100, 250 sent late", Misbehaviour(late_frames=frozenset({100, 250})),
              sensor="imuback", rate_hz=208.0, speedup=10.0, seconds=30.0, late=True)
    reordered = ((100, 3), (101, 1), (102, 2), (160, 4), (200, 4), (201, 3), (202, 2), (203, 1), (250, 2), (251, 2))
    simulated("imuback 208 Hz: 10 reordered, 1 over a reconnect",
              Misbehaviour(delayed_frames=reordered, disconnects=((15.0, 1.0),)),
              sensor="imuback", rate_hz=208.0, speedup=10.0, seconds=30.0, late=True)
    simulated("imuback 208 Hz: frame 100 20 late, 200 100 late",
              Misbehaviour(delayed_frames=((100, 20), (200, 100))),
              sensor="imuback", rate_hz=208.0, speedup=10.0, seconds=30.0, late=True)
    full_disk()
    corrupted_journal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
