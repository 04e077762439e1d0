"""benchmarks/get_real_data.py against a local HTTP server on loopback (no internet needed)."""

from __future__ import annotations

import hashlib
import http.server
import json
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import get_real_data  # noqa: E402

FILES = {  # path under the data folder -> (path on the server, bytes)
    "real/set_a/GaitData/1-1_lb.txt": ("owner/set_a/main/GaitData/1-1_lb.txt",
                                       b"100 Hz\nPacketCounter\tAcc_X\n0\t9.81\n" * 50),
    "real/set_a/LICENSE.txt": ("owner/set_a/main/LICENSE", b"a licence\n"),
    "real/set_b/HA/001/data.mat": ("other/set_b/main/lab/HA/001/data.mat", bytes(range(256)) * 9000),
}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over tmp_path/www (the public layout); yields (base URL, www)."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # never send loopback requests to a proxy
    www = tmp_path / "www"
    for server_path, content in FILES.values():
        (www / server_path).parent.mkdir(parents=True, exist_ok=True)
        (www / server_path).write_bytes(content)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _manifest(tmp_path: Path, *, derived: dict[str, bytes] | None = None) -> Path:
    files = [{"path": p, "url": f"https://example.org/{server_path}",
              "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
             for p, (server_path, content) in FILES.items()]
    for p, content in (derived or {}).items():
        files.append({"path": p, "url": "https://example.org/x/y/main/all_trials.csv",
                      "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content),
                      "derived": "a subset of its rows"})
    m = tmp_path / "manifest.json"
    m.write_text(json.dumps({"files": files}))
    return m


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_downloads_verify_and_are_not_repeated(server: tuple[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = server
    dest, manifest = tmp_path / "data", _manifest(tmp_path)
    argv = ["--dest", str(dest), "--mirror", base, "--manifest", str(manifest)]
    assert get_real_data.main(argv) == 0
    assert capsys.readouterr().out.startswith("3 downloaded, 0 already in place, 0 failed")
    for path, (_, content) in FILES.items():
        assert (dest / path).read_bytes() == content
    assert get_real_data.main(argv) == 0
    assert capsys.readouterr().out.startswith("0 downloaded, 3 already in place, 0 failed")
    assert not _leftovers(dest)


def test_a_sha_mismatch_is_a_clear_error_and_writes_nothing(server: tuple[str, Path], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    base, www = server
    dest, manifest = tmp_path / "data", _manifest(tmp_path)
    changed = www / FILES["real/set_b/HA/001/data.mat"][0]
    changed.write_bytes(changed.read_bytes()[:-1] + b"\x00")  # same size, one byte differs
    (www / FILES["real/set_a/LICENSE.txt"][0]).unlink()  # and one file is gone: 404
    assert get_real_data.main(["--dest", str(dest), "--mirror", base, "--manifest", str(manifest)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("1 downloaded, 0 already in place, 2 failed")
    err = captured.err.splitlines()
    assert len(err) == 2 and "Traceback" not in captured.err
    assert err[1].startswith("error: real/set_b/HA/001/data.mat: ") and "SHA-256" in err[1]
    assert "nothing written" in err[1]
    assert err[0].startswith("error: real/set_a/LICENSE.txt: download from ") and "404" in err[0]
    assert not (dest / "real/set_b/HA/001/data.mat").exists()
    assert not (dest / "real/set_a/LICENSE.txt").exists()
    assert not _leftovers(dest)
    assert (dest / "real/set_a/GaitData/1-1_lb.txt").read_bytes() == FILES["real/set_a/GaitData/1-1_lb.txt"][1]


def test_a_different_file_in_place_is_kept(server: tuple[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = server
    dest, manifest = tmp_path / "data", _manifest(tmp_path)
    mine = dest / "real/set_a/LICENSE.txt"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own notes\n")
    assert get_real_data.main(["--dest", str(dest), "--mirror", base, "--manifest", str(manifest)]) == 1
    assert "already there with SHA-256" in capsys.readouterr().err
    assert mine.read_bytes() == b"my own notes\n"


def test_a_missing_derived_file_is_named(server: tuple[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = server
    dest = tmp_path / "data"
    manifest = _manifest(tmp_path, derived={"real/set_c/Accelerometer.csv": b"1,2\n"})
    assert get_real_data.main(["--dest", str(dest), "--mirror", base, "--manifest", str(manifest)]) == 1
    err = capsys.readouterr().err
    assert "Accelerometer.csv: missing; it is derived from https://example.org/x/y/main/all_trials.csv" in err
    (dest / "real/set_c").mkdir(parents=True)
    (dest / "real/set_c/Accelerometer.csv").write_bytes(b"1,2\n")
    assert get_real_data.main(["--dest", str(dest), "--mirror", base, "--manifest", str(manifest)]) == 0


@pytest.mark.skipif(not (get_real_data.DEFAULT_DEST / "real").exists(),
                    reason=f"../shared/data/real absent: run {get_real_data.COMMAND}")
def test_the_manifest_covers_the_data_the_checks_use() -> None:
    real = get_real_data.DEFAULT_DEST / "real"
    entries = get_real_data.read_manifest()
    listed = {e.path for e in entries}
    on_disk = {p.relative_to(real.parent).as_posix() for p in real.rglob("*") if p.is_file()}
    assert on_disk == listed
    for e in entries:
        assert get_real_data.sha256_of(real.parent / e.path) == e.sha256, e.path
        assert e.url.startswith("https://raw.githubusercontent.com/")
