"""Process settings for long array work (imuback.runtime)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings are Linux-only")
def test_tune_allocator_keeps_large_blocks_and_drops_the_hugepage_hint() -> None:
    code = ("import numpy as np; from imuback.runtime import tune_allocator; "
            "core = np._core if hasattr(np, '_core') else np.core; "
            "core.multiarray._set_madvise_hugepage(True); ok = tune_allocator(); "
            "print(ok, core.multiarray._get_madvise_hugepage(), tune_allocator())")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert out == ["True", "False", "True"]
