"""The gap counter's edge cases on jittered timestamps, and on counter-timed ones off their rate.

    python benchmarks/gap_edges.py [--trials 300] [--first-seed 0] [--rev old=ffb4177 --rev gapfix=614ffb0]

Simulated 100 Hz timelines with the simulated phone's timestamp jitter (2 ms SD, as
``benchmarks/gap_counts.py``); many jitter draws per row. Rows:

- ``2x1 d``: 400 samples, two single samples removed ``d`` samples apart (normal jitter; a draw that
  reorders samples is skipped);
- ``1xw``: 400 samples, one hole of ``w`` samples (the same jitter); ``max_fill_s`` (0.3 s) is
  30 samples, so 31 and 40 must split the recording and 30 must not;
- ``none n``: no hole, ``n`` samples: any gap is invented (mostly a window of one or two samples at
  the recording's start or end);
- ``10% r``: 2000 samples of a sensor at ``r`` Hz told 100 Hz, 10 % of the samples lost one by
  one (jitter clipped at 4 ms so that no draw reorders);
- ``ctr r p``: counter-timed (no jitter) at ``r`` Hz told 100 Hz, 3000 samples, a share ``p``
  lost one by one, or in 5-sample bursts (``b``). ffb4177's counter gives ``round(dt * fs) - 1``
  per interval at the rate it counts in (the sensor's own when it is more than ``RATE_RECOUNT``
  off and 100 clean spans measure it; 95 Hz with half the samples lost has too few, so the stated
  one, and long holes come out wrong).

Per row and counter: draws counted right (gaps, samples, and the samples of the gaps up to
``max_fill_s``, bridged: a longer gap must split the recording), too many (gaps or samples), too
few samples. ``--rev NAME=COMMIT`` adds the counter of ``src/imuback/signal/resample.py`` at that
commit as a column (read with ``git show``); ``--first-seed`` picks other draws (held out).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

from imuback.signal import resample
from imuback.signal.params import ResampleParams

FS_HZ, JITTER_S = 100.0, 0.002
MAX_FILL_N = round(ResampleParams().max_fill_s * FS_HZ)

# a draw: the sample times (s) and the true (gaps, samples, samples in gaps up to max_fill_s)
Draw = tuple[np.ndarray, tuple[int, int, int]]


def _module_at(name: str, commit: str) -> ModuleType:
    """``resample.py`` at ``commit`` as a module (imported from a scratch file)."""
    src = subprocess.run(["git", "show", f"{commit}:src/imuback/signal/resample.py"], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).parent).stdout
    path = Path(tempfile.mkdtemp()) / f"resample_{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"resample_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _truth(idx: np.ndarray) -> tuple[int, int, int]:
    m = np.diff(idx) - 1
    return int(np.sum(m > 0)), int(np.sum(m)), int(np.sum(m[m <= MAX_FILL_N]))


def _holes(n: int, lost: list[int], seeds: range) -> Iterator[Draw]:
    """``n`` samples with normal jitter, the ``lost`` ones removed; reordering draws skipped."""
    keep = np.ones(n, bool)
    keep[lost] = False
    idx = np.flatnonzero(keep)
    for seed in seeds:
        t = (np.arange(n) / FS_HZ + np.random.default_rng(seed).normal(0, JITTER_S, n))[keep]
        if np.all(np.diff(t) > 0):
            yield t, _truth(idx)


def _dense(rate_hz: float, share: float, n: int, jitter_s: float, burst: int, seeds: range) -> Iterator[Draw]:
    """``n`` samples at ``rate_hz``, a share lost in bursts of ``burst``; jitter clipped at 2 SD."""
    for seed in seeds:
        rng = np.random.default_rng(seed)
        keep = np.ones(n, bool)
        starts = rng.choice(n - burst - 1, int(share * n / burst), replace=False) + 1
        keep[(starts[:, None] + np.arange(burst)).ravel()] = False
        idx = np.flatnonzero(keep)
        t = idx / rate_hz + np.clip(rng.normal(0, jitter_s, idx.size), -2 * jitter_s, 2 * jitter_s)
        yield t, _truth(idx)


def _score(mod: ModuleType, draws: list[Draw]) -> tuple[int, int, int]:
    """Draws counted right, too many, too few."""
    right = many = few = 0
    for t, (n_true, m_true, fill_true) in draws:
        _, st = mod.to_grid(np.round(t * 1e9).astype(np.int64), np.zeros((t.size, 3)), None, fs_hz=FS_HZ)
        got = round(st.gap_total_s * FS_HZ)
        right += st.n_gaps == n_true and got == m_true and round(st.filled_s * FS_HZ) == fill_true
        many += st.n_gaps > n_true or got > m_true
        few += got < m_true
    return right, many, few


def rows(trials: int, first: int = 0) -> Iterator[tuple[str, Callable[[], Iterator[Draw]]]]:
    seeds, few = range(first, first + trials), range(first, first + trials // 10)
    for d in (1, 2, 3, 5, 8, 16, 32):
        yield f"2x1 d={d}", lambda d=d: _holes(400, [200, 201 + d], seeds)
    for w in (1, 2, 3, 5, 10, 30, 31, 40):
        yield f"1x{w}", lambda w=w: _holes(400, list(range(200, 200 + w)), seeds)
    for n in (10, 400):
        yield f"none n={n}", lambda n=n: _holes(n, [], seeds)
    for r in (100.0, 97.0, 103.0):
        yield f"10% {r:g}", lambda r=r: _dense(r, 0.1, 2000, JITTER_S, 1, seeds)
    for r, p, b in ((99.7, 0.1, 1), (98.0, 0.1, 1), (100.4, 0.3, 1), (95.0, 0.5, 1), (105.0, 0.2, 1),
                    (99.55, 0.05, 5)):
        yield f"ctr {r:g} {p:g}{'b' if b > 1 else ''}", lambda r=r, p=p, b=b: _dense(r, p, 3000, 0.0, b, few)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--first-seed", type=int, default=0, help="draws first-seed .. first-seed + trials - 1")
    ap.add_argument("--rev", action="append", default=[], help="NAME=COMMIT: a column for resample.py there")
    args = ap.parse_args(argv)
    mods = [(name, _module_at(name, commit)) for name, commit in (r.split("=", 1) for r in args.rev)]
    mods.append(("this", resample))
    last = args.first_seed + args.trials - 1
    print(f"# {FS_HZ:g} Hz, jitter {1e3 * JITTER_S:g} ms SD, draws {args.first_seed}..{last}; "
          "per counter: right / too many / too few")
    print(f"{'row':<14} {'draws':>6}" + "".join(f" {name:>15}" for name, _ in mods))
    for label, make in rows(args.trials, args.first_seed):
        draws = list(make())
        cols = "".join(f" {'/'.join(str(v) for v in _score(mod, draws)):>15}" for _, mod in mods)
        print(f"{label:<14} {len(draws):>6}{cols}", flush=True)


if __name__ == "__main__":
    main()
