import pytest

from imuback.store.raw import RawSession
from tests.signal.analytic import half_sine_run


@pytest.fixture
def analytic_run() -> tuple[RawSession, dict[str, float]]:
    return half_sine_run(mounting_err_deg=(20.0, 15.0))
