import io

from imuback.batch.progress import Progress
from imuback.batch.work import SessionOutcome


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _ok(i: int) -> SessionOutcome:
    return SessionOutcome(path=f"/d/{i}.parquet", status="processed", session_id=f"s{i}",
                          runner_id="r", n_steps=10, session_status="ok", elapsed_s=0.1)


def test_log_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(3, stream=out)
    assert p.mode == "log"
    p.update(_ok(1))
    p.update(SessionOutcome(path="/d/2.parquet", status="failed", error_type="UnitsError",
                            message="/d/2.parquet: acceleration looks like it is in g"))
    p.update(SessionOutcome(path="/d/3.parquet", status="skipped", session_id="s3", runner_id="r"))
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "[1/3" in lines[0] and "processed session s1 (runner r): 10 steps, ok" in lines[0]
    assert "[2/3" in lines[1] and "FAILED UnitsError: /d/2.parquet" in lines[1]
    assert "[3/3" in lines[2] and "skipped session s3" in lines[2]
    assert "\r" not in out.getvalue()


def test_bar_on_a_terminal() -> None:
    out = _Tty()
    p = Progress(2, stream=out, width=10)
    assert p.mode == "bar"
    p.update(_ok(1))
    p.update(_ok(2))
    p.close()
    text = out.getvalue()
    assert "\r[##########] 2/2 sessions" in text and "/s  ETA 0:00:00" in text
    assert text.endswith("\n")


def test_none_is_silent() -> None:
    out = io.StringIO()
    p = Progress(1, stream=out, mode="none")
    p.update(_ok(1))
    p.log("hello")
    p.close()
    assert out.getvalue() == ""
