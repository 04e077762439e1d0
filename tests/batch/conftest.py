from pathlib import Path

import pytest

from tests.batch.data import Study, write_study


@pytest.fixture
def study(tmp_path: Path) -> Study:
    """Six good sessions of two runners and three broken files (truncated, missing column, in g)."""
    return write_study(tmp_path / "raw", bad=True)
