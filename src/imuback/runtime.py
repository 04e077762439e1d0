"""Process-level settings for long array work (called by the CLI, batch workers and benchmarks).

glibc's malloc hands every large array (> ~32 MB) back to the kernel when it is freed and maps
fresh zeroed pages for the next one, so a 24 h session (arrays of ~140 MB each) spends more time
in page faults than in arithmetic. Keeping freed memory for reuse (no mmap for large blocks, no
trimming) made a 24 h session 1.6x faster here (benchmarks/bench_pipeline.py); the price is that
the process keeps its peak memory until it exits, which suits a CLI run or a batch worker.

numpy asks the kernel for transparent huge pages on every large array (madvise). With the common
``defrag=madvise`` setting the kernel then compacts memory synchronously inside the page fault:
the first 24 h session in a fresh process took 11-17 s with it and 8 s without (warm runs and 1 h
sessions unchanged; benchmarks/bench_pipeline.py), so the hint is switched off as well.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import numpy as np

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_done = False


def tune_allocator() -> bool:
    """Switch numpy's huge-page hint off (Linux) and make glibc malloc keep and reuse large freed
    blocks; True if the malloc settings were applied (Linux/glibc only).
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    core = np._core if hasattr(np, "_core") else np.core  # numpy 2 renamed the private module
    set_hugepage = getattr(core.multiarray, "_set_madvise_hugepage", None)
    if set_hugepage is not None:
        set_hugepage(False)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc: leave it alone
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, 1 << 30)) & bool(mallopt(_M_TRIM_THRESHOLD, 1 << 31))
    ok &= bool(mallopt(_M_TOP_PAD, 1 << 28))
    _done = ok
    return ok
