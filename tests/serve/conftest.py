"""The clinic page on a real server (waitress on a free loopback port) and the reports' browser."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from waitress import create_server

from imuback.serve.app import create_app
from tests.report.conftest import browser  # noqa: F401 - the same headless Chromium fixture

Server = Callable[..., str]


@pytest.fixture
def clinic() -> Iterator[Server]:
    """``clinic(dataset, **create_app_kwargs) -> base URL`` of a running clinic page."""
    running: list[tuple[Any, threading.Thread, Any]] = []

    def start(dataset: Path, **kwargs: Any) -> str:
        app = create_app(dataset, **kwargs)
        server = create_server(app, host="127.0.0.1", port=0, threads=2)

        def run() -> None:
            # closing the server from this thread at teardown closes the sockets its loop selects
            # on: that loop then ends with EBADF, which is the end we asked for
            with contextlib.suppress(OSError):
                server.run()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        running.append((server, thread, app))
        return f"http://127.0.0.1:{server.effective_port}"

    yield start
    for server, thread, app in running:
        server.close()
        thread.join(timeout=5)
        app.extensions["imuback_jobs"].shutdown()
