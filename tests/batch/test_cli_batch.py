import pytest

from imuback.cli import main


@pytest.mark.parametrize("argv", [["batch"], ["query"], ["export"], ["export", "bids"]])
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: imuback " + " ".join(argv))


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["batch", "x", "--dataset", "d", "--workers", "0"])
    assert "must be at least 1" in capsys.readouterr().err
