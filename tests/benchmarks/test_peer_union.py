"""benchmarks/peer_union.py: a peer's extras, the gaps in imuback's rhythm, the union, and the tables
of misses found, on hand-built trials (no peers or data needed); the real run skips without them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import peer_union as pu  # noqa: E402
import real_walking as rw  # noqa: E402

PEER_PYTHON = Path("/work/venv-skdh/bin/python")
DATA = BENCHMARKS.parents[1] / "shared" / "data" / "real" / "mobgap_lab"


def _det(t: np.ndarray) -> rw.Detected:
    return rw.Detected(ic_s=np.asarray(t, float), to_s=np.full(len(t), np.nan), foot=np.full(len(t), "L"))


def test_extras_are_the_peer_detections_beyond_the_tolerance_of_every_one_of_ours() -> None:
    ours = np.array([1.0, 1.5, 2.0])
    peer = np.array([0.5, 0.95, 1.2, 1.61, 2.09, 2.5])
    assert pu.extras(ours, peer).tolist() == [0.5, 1.2, 1.61, 2.5]  # 2.09 is 90 ms from 2.0: ours
    assert pu.extras(np.array([1.0]), peer).tolist() == [0.5, 1.2, 1.61, 2.09, 2.5]
    assert pu.extras(np.zeros(0), peer).tolist() == peer.tolist()


def test_a_gap_is_one_and_a_half_to_six_typical_steps_between_two_of_ours() -> None:
    # steps every 0.5 s, then a 1.0 s gap (2 steps), a 0.6 s interval (1.2 steps), a 4 s stop (8 steps)
    ours = np.array([0.0, 0.5, 1.0, 1.5, 2.5, 3.1, 7.1, 7.6])
    x = np.array([-0.2, 0.7, 2.0, 2.8, 5.0, 8.0])
    assert pu.in_gaps(ours, x).tolist() == [False, False, True, False, False, False]
    assert pu.in_gaps(ours, x, gap_steps=(1.5, 10.0)).tolist() == [False, False, True, False, True, False]
    assert not pu.in_gaps(np.array([0.0, 3.0]), x).any()  # no typical step (every interval > 1.2 s)


def test_the_union_adds_only_the_extras_with_no_foot_and_keeps_time_order() -> None:
    ours = _det(np.array([0.0, 0.5, 1.0, 2.0, 2.5]))
    uni, n = pu.union(ours, _det(np.array([0.52, 1.5, 3.5])))
    assert n == 2 and uni.ic_s.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.5]
    assert uni.foot.tolist() == ["L", "L", "L", "", "L", "L", ""]
    uni, n = pu.union(ours, _det(np.array([0.52, 1.5, 3.5])), gaps_only=True)
    assert n == 1 and uni.ic_s.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def _cells(lines: list[str], header: str, label: str) -> list[str]:
    block = lines[next(i for i, x in enumerate(lines) if header in x):]
    row = next(x for x in block if x.strip().startswith(label))
    return re.split(r"\s{3,}", row.strip())


def test_the_tables_count_the_misses_each_peer_finds_and_rescore_the_union() -> None:
    # 12 reference ICs 0.5 s apart, the 6th-8th in a turn; imuback misses the 3rd, 7th and 12th
    ic = 1.0 + 0.5 * np.arange(12)
    turn = np.isin(np.arange(12), [5, 6, 7])
    ref = rw.Reference(ic_s=ic, foot=np.array(["L", "R"] * 6), to_s=np.full(12, np.nan),
                       bout_id=np.zeros(12, np.int64), turn=turn, bouts_s=np.array([[1.0, 6.5]]),
                       speed_mps=np.array([1.0]))
    trial = rw.Trial(dataset="d", name="d/1", subject="s", raw=None, refs={"ref": ref},  # type: ignore[arg-type]
                     tilt_deg=5.0)
    ours = _det(np.delete(ic, [2, 6, 11]))
    # peer a: finds the 3rd and 7th (30 ms late) plus a spurious one in the 7th's gap, misses the rest;
    # peer b: only the 12th, and a spurious one after the bout's end (outside the bout: not scored)
    a = _det(np.array([ic[2] + 0.03, ic[6] + 0.03, ic[6] + 0.25]))
    b = _det(np.array([ic[11], ic[11] + 3.0]))
    lines = pu.tables([trial], [ours], {"a": [a], "b": [b]})

    head = "missed reference ICs found"
    assert _cells(lines, head, "all") == ["all", "12", "3/12 (25.0 %)", "2/3 (66.7 %)", "1/3 (33.3 %)", "3/3 (100.0 %)"]
    assert _cells(lines, head, "turn: turn") == ["turn: turn", "3", "1/3 (33.3 %)", "1/1 (100.0 %)", "0/1 (0.0 %)",
                                                 "1/1 (100.0 %)"]
    assert _cells(lines, head, "turn: straight")[2:] == ["2/9 (22.2 %)", "1/2 (50.0 %)", "1/2 (50.0 %)",
                                                         "2/2 (100.0 %)"]
    head = "the union"
    assert _cells(lines, head, "imuback") == ["imuback", "0.750", "1.000"]
    # + a: 3 extras, 2 of them reference ICs: recall 11/12, precision 11/12
    assert _cells(lines, head, "+ a ") == ["+ a", "0.917", "0.917", "0.167 / 0.667", "3", "2/3 (66.7 %)"]
    assert _cells(lines, head, "+ b ") == ["+ b", "0.833", "1.000", "0.083 / 1.000", "2", "1/2 (50.0 %)"]
    # in gaps: a's three extras lie in 1 s gaps (2 typical steps); b's 12th is after imuback's last step
    assert _cells(lines, head, "+ a, in gaps") == ["+ a, in gaps", "0.917", "0.917", "0.167 / 0.667", "3",
                                                   "2/3 (66.7 %)"]
    assert _cells(lines, head, "+ b, in gaps") == ["+ b, in gaps", "0.750", "1.000", "0.083 / 1.000", "0",
                                                   "0/0"]


@pytest.mark.skipif(not (PEER_PYTHON.exists() and DATA.exists()),
                    reason="the peer venv (mobgap, skdh) or ../shared/data/real/mobgap_lab absent")
def test_the_script_runs_the_peers_on_the_real_trials(capsys: pytest.CaptureFixture[str]) -> None:
    assert pu.main(["--mobgap-python", str(PEER_PYTHON), "--dataset", "mobgap_lab"]) == 0
    out = capsys.readouterr().out
    assert "not scored" not in out
    for name in pu.PEERS:
        assert f"+ {name} " in out and f"+ {name}, in gaps" in out
