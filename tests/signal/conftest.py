import sys
from pathlib import Path

import pytest

from imuback.core import RawSession
from tests.signal.analytic import half_sine_run

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the accuracy scripts double as test helpers


@pytest.fixture
def analytic_run() -> tuple[RawSession, dict[str, float]]:
    return half_sine_run(mounting_err_deg=(20.0, 15.0))
