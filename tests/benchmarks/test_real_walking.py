"""benchmarks/real_walking.py: the helpers every real-walking script shares."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402


def test_throughput_line_counts_every_trial_and_the_peak_memory():
    trials = [SimpleNamespace(raw=SimpleNamespace(n_samples=n)) for n in (1500, 2500, 6000)]
    line = rw.throughput_line(trials, 4.0)  # type: ignore[arg-type]
    m = re.fullmatch(r"\n2,500 samples/s over 3 trials \(4\.0 s\), peak memory (\d+) MB", line)
    assert m is not None, line
    assert int(m.group(1)) > 10  # this process: the interpreter, numpy, pandas
