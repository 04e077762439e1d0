"""Raw sessions for batch tests: short analytic runs (half-sine contacts) plus broken files.

Independent of the simulator so that the batch machinery is tested on data with a known shape:
each good file holds a running session whose step time is known from its seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback.core import G_MPS2, RawSession
from imuback.store.raw import raw_to_table, write_raw

T0_NS = 1_700_000_000 * 10**9


def running_session(session_id: str, runner_id: str, *, minutes: float = 1.0, fs: float = 200.0,
                    seed: int = 0) -> RawSession:
    """A running session of half-sine contacts, body frame = sensor frame (m/s², deg/s)."""
    rng = np.random.default_rng(seed)
    step_s = 0.34 + 0.04 * rng.random()
    contact_s = 0.24
    t = np.arange(int(minutes * 60 * fs)) / fs
    ph = t % step_s
    k = (t // step_s).astype(int)
    hump = np.where(ph < contact_s, np.sin(np.pi * ph / contact_s), 0.0)
    vert = hump * step_s / (contact_s * 2 / np.pi)
    side = np.where(k % 2 == 0, 1.0, -1.0)
    fwd = np.where(ph < contact_s, -0.5 * np.sin(2 * np.pi * ph / contact_s), 0.0)
    acc = np.column_stack([fwd, 0.3 * side * hump, vert]) * G_MPS2 + rng.normal(0, 0.05, (t.size, 3))
    w = np.pi / step_s
    gyr = np.column_stack([30 * np.sin(w * t), 10 * np.sin(2 * w * t), 20 * np.sin(w * t)])
    gyr += rng.normal(0, 0.1, gyr.shape)
    return RawSession(session_id=session_id, runner_id=runner_id, sensor="test", sample_rate_hz=fs,
                      time_ns=(T0_NS + np.round(t * 1e9)).astype(np.int64),
                      acc_mps2=acc.astype(np.float32), gyr_dps=gyr.astype(np.float32))


@dataclass(frozen=True)
class Study:
    root: Path
    good: tuple[Path, ...]
    bad: dict[str, Path]
    """kind ('truncated', 'missing_column', 'in_g') -> file"""


def write_study(root: Path, *, runners: int = 2, sessions_per_runner: int = 3, minutes: float = 1.0,
                bad: bool = False) -> Study:
    """``root/<runner>/<session>.parquet`` good files, and (``bad=True``) three broken ones."""
    good = []
    for r in range(runners):
        for s in range(sessions_per_runner):
            sid, rid = f"r{r}s{s}", f"runner{r}"
            good.append(write_raw(root / rid / f"{sid}.parquet",
                                  running_session(sid, rid, minutes=minutes, seed=10 * r + s)))
    broken: dict[str, Path] = {}
    if bad:
        p = write_raw(root / "odd" / "truncated.parquet", running_session("trunc", "runnerX"))
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
        broken["truncated"] = p
        # two acc columns missing
        table = raw_to_table(running_session("nocol", "runnerX")).drop_columns(["acc_x", "acc_y"])
        broken["missing_column"] = root / "odd" / "nocol.csv"
        pacsv.write_csv(table, broken["missing_column"])
        # a RawSession in g cannot be built (core refuses it): the file is written from its table
        table = raw_to_table(running_session("ing", "runnerX"))
        for c in ("acc_x", "acc_y", "acc_z"):
            i = table.column_names.index(c)
            table = table.set_column(i, table.schema.field(i), pc.divide(table.column(c), np.float32(G_MPS2)))
        broken["in_g"] = root / "odd" / "in_g.parquet"
        pq.write_table(table, broken["in_g"])
    return Study(root=root, good=tuple(good), bad=broken)
