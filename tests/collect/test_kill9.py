"""kill -9 of a recorder process: the journal on disk holds everything but the last second.

The simulated sensor runs here; the recorder runs as ``imuback record --hci tcp-client:...`` in a
child process with its own host stack, talking HCI over TCP to a controller on our virtual link.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import numpy as np

from imuback.cli import main as cli_main
from imuback.simulate.peripheral_server import serve
from imuback.store.raw import read_raw

from .conftest import make_raw
from .test_record_e2e import row_indices


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill9_loses_at_most_the_last_second_and_recover_rebuilds_the_file(tmp_path: Path) -> None:
    rate = 1600.0
    raw = make_raw(rate_hz=rate, seconds=120, session_id="k9src")

    async def scenario() -> tuple[np.ndarray, np.ndarray, float]:
        port = _free_port()
        server = await serve(raw, hci=f"tcp-server:127.0.0.1:{port}", speedup=1.0)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "imuback.cli", "record", "--hci", f"tcp-client:127.0.0.1:{port}",
            "--address", server.sensor.address, "--rate", str(int(rate)), "--out", str(tmp_path),
            "--session", "k9", "--runner", "r9", "--quiet",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        loop = asyncio.get_running_loop()
        log = server.sensor.log
        deadline = loop.time() + 60
        while not (log.frame_wall_s and loop.time() - log.frame_wall_s[0] > 3.0):
            assert loop.time() < deadline and proc.returncode is None, "recorder never streamed"
            await asyncio.sleep(0.05)
        t_kill = loop.time()
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await server.close()
        return (np.array(log.frame_first_idx), np.array(log.frame_k), t_kill - np.array(log.frame_wall_s))

    first, k, age = asyncio.run(scenario())
    journal = tmp_path / "k9.journal"
    assert journal.exists() and not (tmp_path / "k9.parquet").exists()
    assert cli_main(["recover", str(journal)]) == 0
    out = read_raw(tmp_path / "k9.parquet")
    assert out.session_id == "k9" and out.runner_id == "r9" and not journal.exists()
    got = set((row_indices(out, rate) + int(first[0])).tolist())
    old = age > 1.0  # frames sent more than one second before the kill
    must = {int(i) for f, n in zip(first[old], k[old], strict=True) for i in range(f, f + n)}
    assert len(must) > 2000
    assert must <= got, f"{len(must - got)} samples older than 1 s lost"
