"""``imuback simulate`` end to end (src/imuback/simulate/commands.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imuback.cli import main
from imuback.store.raw import read_raw


def test_simulate_writes_raw_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    rc = main(["simulate", "--out", str(out), "--sessions", "2", "--minutes", "0.5", "--seed", "3",
               "--runner", "cli-runner", "--rate", "104", "--misalignment-deg", "12",
               "--misalignment-exact", "--no-gaps", "--mounting", "mcroberts"])
    assert rc == 0
    raws = sorted(out.glob("*.parquet"))
    assert len(raws) == 2
    for raw_path in raws:
        raw = read_raw(raw_path)
        assert raw.runner_id == "cli-runner" and raw.sample_rate_hz == 104.0
        assert raw.gaps == ()
        assert raw.mounting[0].tolist() == [0.0, 0.0, 1.0]
        sid = raw.session_id
        for suffix in (".steps.parquet", ".strides.parquet", ".json"):
            assert (out / "truth" / f"{sid}{suffix}").is_file()
        truth = json.loads((out / "truth" / f"{sid}.json").read_text())
        assert abs(truth["misalignment_deg"] - 12.0) < 1e-6
    printed = capsys.readouterr().out
    assert "steps" in printed and str(out / "truth") in printed


def test_simulate_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--out", "--sessions", "--minutes", "--seed", "--runner", "--rate",
                 "--misalignment-deg", "--gaps", "--no-gaps"):
        assert flag in text
