"""benchmarks/compare_mobgap.py: a failing peer interpreter is one PeerError carrying its last line; the
by-condition table on a hand-built trial (no peers needed)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import compare_mobgap  # noqa: E402
import real_walking as rw  # noqa: E402


def test_an_interpreter_that_cannot_start_is_a_peer_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-python")
    with pytest.raises(compare_mobgap.PeerError, match=r"the peers failed in .*no-python: .*No such file") as exc:
        compare_mobgap.run_peers([], [], data=tmp_path, python=missing)
    assert "No such file" in exc.value.tail


def test_a_child_that_fails_gives_its_last_stderr_line(tmp_path: Path) -> None:
    # this interpreter has no mobgap (or, if it has, no data under tmp_path): the child's traceback ends in one line
    with pytest.raises(compare_mobgap.PeerError) as exc:
        compare_mobgap.run_peers([], [], data=tmp_path, python=sys.executable)
    assert exc.value.tail and "\n" not in exc.value.tail and "Traceback" not in exc.value.tail
    assert str(exc.value) == f"the peers failed in {sys.executable}: {exc.value.tail}"


def _by_cells(lines: list[str], label: str) -> list[str]:
    """The cells of the first row labelled ``label`` (columns are 3+ spaces apart)."""
    row = next(x for x in lines if x.strip().startswith(label + " "))
    return re.split(r"\s{3,}", row.strip())


def test_the_by_condition_table_scores_each_detector_per_condition() -> None:
    # one trial, 13 reference ICs 0.5 s apart, the 6th to 8th in a turn, slow walking (0.5 m/s)
    ic = 1.0 + 0.5 * np.arange(13)
    turn = np.isin(np.arange(13), [5, 6, 7])
    ref = rw.Reference(ic_s=ic, foot=np.array(["L", "R"] * 6 + ["L"]), to_s=np.full(13, np.nan),
                       bout_id=np.zeros(13, np.int64), turn=turn, bouts_s=np.array([[1.0, 7.0]]),
                       speed_mps=np.array([0.5]))
    trial = rw.Trial(dataset="d", name="d/1", subject="s", raw=None, refs={"ref": ref, "other": ref},  # type: ignore[arg-type]
                     tilt_deg=5.0)

    def det(t: np.ndarray) -> rw.Detected:
        return rw.Detected(ic_s=t, to_s=np.full(t.size, np.nan), foot=np.full(t.size, ""))

    # "exact": every IC 20 ms late; "straight only": the straight ICs ±10 ms, the turn's missed and
    # one detection 200 ms after the turn's first IC (unmatched, in the turn)
    straight = ic[~turn] + np.tile([0.01, -0.01], 5)
    # a second data set, listed between d's trials, whose detectors do the opposite: each
    # detector's steps must come from the trials of the data set being scored
    other = rw.Trial(dataset="c", name="c/1", subject="s", raw=None, refs={"ref": ref}, tilt_deg=5.0)  # type: ignore[arg-type]
    lines = compare_mobgap.by_condition(
        [trial, other, trial],
        {"exact": [det(ic + 0.02), det(ic[:6] + 0.02), det(ic + 0.02)],
         "straight only": [det(np.sort(np.append(straight, ic[5] + 0.2))), det(ic + 0.03),
                           det(np.sort(np.append(straight, ic[5] + 0.2)))]})

    headers = [x for x in lines if not x.startswith(" ")]
    assert [re.split(r"\s{3,}", h) for h in headers] == [["c/ref", "n ref", "exact", "straight only"],
                                                         ["d/other", "n ref", "exact", "straight only"],
                                                         ["d/ref", "n ref", "exact", "straight only"]]
    c_block = lines[: lines.index(headers[1])]
    assert _by_cells(c_block, "all") == ["all", "13", "0.462 / 1.000 /  0.0", "1.000 / 1.000 /  0.0"]
    block = lines[lines.index(headers[1]): lines.index(headers[2])]
    # d's two trials are the same trial twice: the same rates, twice the counts
    assert _by_cells(block, "all") == ["all", "26", "1.000 / 1.000 /  0.0", "0.769 / 0.909 / 10.0"]
    assert _by_cells(block, "turn: turn") == ["turn: turn", "6", "1.000 / 1.000 /  0.0", "0.000 / 0.000 /  nan"]
    assert _by_cells(block, "turn: straight") == ["turn: straight", "20", "1.000 / 1.000 /  0.0",
                                                  "1.000 / 1.000 / 10.0"]
    assert _by_cells(block, "bout: start/end (2 steps)")[1] == "8"
    assert _by_cells(block, "speed: <0.6 m/s")[1:] == ["26", "1.000 / 1.000 /  0.0", "0.769 / 0.909 / 10.0"]
    assert _by_cells(block, "tilt: <10 deg")[1] == "26"
    # every condition of real_walking's split has its rows, in the table's order
    labels = [re.split(r"\s{3,}", x.strip())[0].split(":")[0] for x in block[1:]]
    assert labels == sorted(labels, key=("all", *rw.CONDITIONS).index)
    assert set(labels) == {"all", *rw.CONDITIONS}
