"""benchmarks/turn_gyro.py: yaw-rate extremes in the detections' gaps, counted true or false, built by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402
import turn_gyro as tg  # noqa: E402

FS = 100.0
T = np.arange(int(20 * FS)) / FS
REF_IC = np.arange(1.0, 19.01, 0.5)
MISSED = 9.0  # the detections leave a two-step gap here


def _ref() -> rw.Reference:
    n = REF_IC.size
    return rw.Reference(ic_s=REF_IC, foot=np.array(["L", "R"] * (n // 2) + ["L"] * (n % 2)),
                        to_s=np.full(n, np.nan), bout_id=np.zeros(n, np.int64), turn=(REF_IC > 6) & (REF_IC < 12),
                        bouts_s=np.array([[REF_IC[0], REF_IC[-1]]]), speed_mps=np.array([1.0]))


def _det() -> rw.Detected:
    ic = REF_IC[REF_IC != MISSED]
    return rw.Detected(ic_s=ic, to_s=np.full(ic.size, np.nan), foot=np.full(ic.size, ""))


def _counts(bump_s: float, turn_dps: float) -> dict[tuple[str, float, float, float, bool], tuple[int, int]]:
    """Per rule (true, false) with a 20 deg/s yaw-rate bump (50 ms) at bump_s inside a turn of turn_dps."""
    slow = turn_dps * np.clip(np.minimum(T - 6.0, 12.0 - T), 0.0, 1.0)  # a left turn from 6 to 12 s
    yaw = slow + 20.0 * np.exp(-0.5 * ((T - bump_s) / 0.05) ** 2)
    yaw_lp = tg.lowpass(yaw, 0.8, FS, np.array([0, T.size]))
    got = tg.gap_counts(T, tg.gaussian_filter1d(yaw, tg.SMOOTH_S * FS) - yaw_lp, yaw_lp, _det(), _ref())
    return {r: (int(got[k, 0]), int(got[k, 1])) for k, r in enumerate(tg.RULES)}


def test_a_yaw_maximum_at_the_missed_contact_is_a_true_candidate() -> None:
    c = _counts(MISSED, 90.0)
    assert c[("max", 5.0, 0.0, 60.0, False)] == (1, 0)
    assert c[("max", 5.0, 0.0, 60.0, True)] == (1, 0)
    # moved by the lag: 80 ms off is still within 100 ms, 120 ms off is a false step
    assert c[("max", 5.0, -0.08, 60.0, False)] == (1, 0)
    assert c[("max", 5.0, -0.12, 60.0, False)] == (0, 1)
    # minima: the 0.8 Hz high-pass leaves a dip either side of the bump, both off the contact;
    # one per gap keeps the deeper one only
    assert c[("min", 5.0, 0.0, 60.0, False)] == (0, 2)
    assert c[("min", 5.0, 0.0, 60.0, True)] == (0, 1)


def test_a_yaw_maximum_away_from_the_missed_contact_is_false_and_no_turn_gives_none() -> None:
    # 0.2 s after the missed contact: false without a lag, true moved back 0.12 s
    c = _counts(MISSED + 0.2, 90.0)
    assert c[("max", 5.0, 0.0, 60.0, False)] == (0, 1)
    assert c[("max", 5.0, -0.12, 60.0, False)] == (1, 0)
    # the trunk turning at 40 deg/s only: below a 60 deg/s turn gate, above a 30 deg/s one
    c = _counts(MISSED, 40.0)
    assert c[("max", 5.0, 0.0, 60.0, False)] == (0, 0)
    assert c[("max", 5.0, 0.0, 30.0, False)] == (1, 0)
