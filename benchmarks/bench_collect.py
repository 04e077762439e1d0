"""Collector benchmarks: decode throughput and the recorder's CPU share while streaming 1600 Hz.

1. Decode: one hour of 1600 Hz 6-axis imuback frames (19 samples per notification, MTU 247)
   decoded from a journal-sized batch and in 0.2 s live batches; the Polar delta decoder too.
   Target >= 5 million samples/s.
2. CPU share: the simulated sensor streams 1600 Hz in real time in this process; the recorder
   runs as ``imuback record --hci tcp-client:...`` in a child process with its own bumble host
   stack; its CPU time over a steady window / wall time. Target < 10 % of one core.

Run: ``python benchmarks/bench_collect.py [--seconds 20]``. Prints samples/s and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import sys
import tempfile
import time

import numpy as np
import psutil

from imuback.collect.imuback_protocol import ImubackDecoder
from imuback.collect.polar_pmd import PolarDecoder
from imuback.collect.polar_wire import delta_encode
from imuback.collect.sensor import FrameBatch
from imuback.simulate.peripheral_data import synthetic_raw
from imuback.simulate.peripheral_server import serve

ACC_S, GYR_S = 16 * 9.80665 / 32768, 2000 / 32768


def _imuback_batch(n_samples: int, k: int = 19) -> FrameBatch:
    n_frames = n_samples // k
    rng = np.random.default_rng(0)
    counts = rng.integers(-3000, 3000, (n_frames * k, 6)).astype("<i2").reshape(n_frames, k * 6)
    head = np.zeros((n_frames, 8), np.uint8)
    head[:, 0], head[:, 1] = 0xA6, k
    head[:, 2:4] = (np.arange(n_frames) & 0xFFFF).astype("<u2").view(np.uint8).reshape(-1, 2)
    head[:, 4:8] = (np.arange(n_frames) * k).astype("<u4").view(np.uint8).reshape(-1, 4)
    payload = np.hstack([head, counts.view(np.uint8)]).reshape(-1)
    host = (np.arange(n_frames) * (k / 1600 * 1e9)).astype(np.int64) + 5_000_000
    return FrameBatch(host_ns=host, lengths=np.full(n_frames, 8 + 12 * k, np.int64), payload=payload)


def bench_decode() -> None:
    n = 1600 * 3600
    batch = _imuback_batch(n)
    dec = ImubackDecoder(rate_hz=1600, gyro=True, acc_scale=ACC_S, gyr_scale=GYR_S)
    t = time.perf_counter()
    out = dec.decode(batch)
    dt = time.perf_counter() - t
    assert out.streams["imu"].n == batch.n * 19 and out.bad.n == 0
    print(f"decode imuback, 1 h of 1600 Hz in one batch: {out.streams['imu'].n / dt / 1e6:6.1f} M samples/s "
          f"({dt * 1e3:.0f} ms for {out.streams['imu'].n:,} samples)")
    # live: 0.2 s batches (~17 frames), as the recorder's writer task decodes for the status line
    frames = [batch.frame(i) for i in range(20_000)]
    host = batch.host_ns[:20_000]
    dec = ImubackDecoder(rate_hz=1600, gyro=True, acc_scale=ACC_S, gyr_scale=GYR_S)
    t = time.perf_counter()
    m = 0
    for lo in range(0, len(frames), 17):
        m += dec.decode(FrameBatch.from_frames(frames[lo:lo + 17], host[lo:lo + 17])).streams["imu"].n
    dt = time.perf_counter() - t
    print(f"decode imuback, live 0.2 s batches:            {m / dt / 1e6:6.1f} M samples/s")
    # Polar delta frames: 36 samples per ACC frame, 416 Hz
    rng = np.random.default_rng(1)
    n_frames = 5000
    s = np.cumsum(rng.integers(-200, 200, (n_frames * 36, 3)), axis=0)
    period = 1e9 / 416
    pf = [bytes([2]) + int(1e15 + (i * 36 + 35) * period).to_bytes(8, "little") + bytes([0x81])
          + delta_encode(s[i * 36:(i + 1) * 36]) for i in range(n_frames)]
    pb = FrameBatch.from_frames(pf, np.arange(n_frames))
    t = time.perf_counter()
    out = PolarDecoder(rate_hz=416).decode(pb)
    dt = time.perf_counter() - t
    print(f"decode Polar delta frames (36 samples/frame):  {out.streams['acc'].n / dt / 1e6:6.2f} M samples/s "
          f"(a Verity Sense sends at most 2 x 416 samples/s)")


def _free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return int(sk.getsockname()[1])


async def _cpu_share(seconds: float) -> None:
    raw = synthetic_raw(minutes=seconds / 60 + 1.0, rate_hz=1600)
    port = _free_port()
    server = await serve(raw, hci=f"tcp-server:127.0.0.1:{port}", speedup=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "imuback.cli", "record", "--hci", f"tcp-client:127.0.0.1:{port}",
            "--address", server.sensor.address, "--rate", "1600", "--out", tmp, "--session", "bench",
            "--runner", "bench",
            "--stop-after", str(seconds / 60 + 0.1), "--quiet",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        child = psutil.Process(proc.pid)
        log = server.sensor.log
        while not (log.frame_wall_s and time.monotonic() > 0 and
                   asyncio.get_running_loop().time() - log.frame_wall_s[0] > 2.0):
            if proc.returncode is not None or not child.is_running():  # it refused or failed: say why
                _out, err = await proc.communicate()
                await server.close()
                raise SystemExit(f"the recorder exited before streaming: {err.decode().strip()}")
            await asyncio.sleep(0.05)
        c0, w0, n0 = child.cpu_times(), time.perf_counter(), len(log.frame_k)
        await asyncio.sleep(seconds)
        c1, w1, n1 = child.cpu_times(), time.perf_counter(), len(log.frame_k)
        share = ((c1.user + c1.system) - (c0.user + c0.system)) / (w1 - w0)
        rss = child.memory_info().rss
        proc.terminate()
        await proc.communicate()
        await server.close()
        rate = sum(log.frame_k[n0:n1]) / (w1 - w0)
        print(f"recorder CPU while streaming {rate:.0f} samples/s ({(n1 - n0) / (w1 - w0):.0f} notifications/s) "
              f"over {w1 - w0:.1f} s: {100 * share:.1f} % of one core (target < 10 %), "
              f"recorder RSS {rss / 2**20:.0f} MiB")
        print("  (the recorder process runs bumble's host stack in Python; with the OS stack "
              "(BlueZ, CoreBluetooth, WinRT) that work is outside the process)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=15.0, help="CPU measurement window (s)")
    args = ap.parse_args(argv)
    bench_decode()
    print(f"peak memory (this process, decode): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    asyncio.run(_cpu_share(args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
