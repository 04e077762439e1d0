"""Cross-check imuback's Axivity ``.cwa`` reader against an independent one, cwa-reader-rs (PyPI,
MIT, Mobilise-D's Rust reader), on files written to OpenMovement's cwa.h by the tests' writer.

Not a dependency of imuback: install it beside imuback to run this (``pip install cwa-reader-rs``).

    python benchmarks/crosscheck_cwa.py

Prints, per file (whole-second or fractional timestamps, a sector with a flipped bit, two sectors
missing from the file): the rows each reader returns, the largest difference of the sample values
and of the times where both have the same rows, and the largest step between sample times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' spec writer

from tests.formats.cwa_spec import write_cwa
from tests.signal.analytic import half_sine_run

from imuback.core import G_MPS2
from imuback.formats.cwa import read_cwa

FS = 100.0
START = dt.datetime(2024, 3, 4, 7)


def _files(folder: Path) -> dict[str, Path]:
    raw = half_sine_run(fs=FS, minutes=0.5)[0]
    acc, gyr = raw.acc_mps2.astype(np.float64), raw.gyr_dps.astype(np.float64)
    out = {}
    for name, fractional in (("whole-second", False), ("fractional", True), ("bad checksum", True),
                             ("2 sectors missing", True)):
        p = write_cwa(folder / f"{name.replace(' ', '_')}.cwa", acc_mps2=acc, gyr_dps=gyr, fs=FS, start=START,
                      fractional=fractional)
        data = bytearray(p.read_bytes())
        if name == "bad checksum":
            data[1024 + 5 * 512 + 100] ^= 0x01
        elif name == "2 sectors missing":
            data = data[:1024 + 3 * 512] + data[1024 + 5 * 512:]
        p.write_bytes(bytes(data))
        out[name] = p
    return out


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    try:
        import cwa_reader_rs as rs
    except ImportError:
        print("cwa-reader-rs is not installed: pip install cwa-reader-rs")
        return 2
    truth_step_ms = 1000 / FS
    print(f"files of {int(FS * 30)} samples at {FS:g} Hz written to cwa.h; truth: {truth_step_ms:g} ms between samples")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _files(Path(tmp)).items():
            ours = read_cwa(path, runner_id="r")
            df = rs.read_cwa_file(str(path), include_temperature=False, include_light=False, include_battery=False)
            t_rs = df.index.to_numpy().astype("datetime64[ns]").astype(np.int64)
            acc_rs = df[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64) * G_MPS2
            line = (f"{name:18s} imuback {ours.n_samples} rows (max step {np.diff(ours.time_ns).max() / 1e6:.2f} ms, "
                    f"{len(ours.gaps)} gaps logged); cwa-reader-rs {len(t_rs)} rows (max step "
                    f"{np.diff(t_rs).max() / 1e6:.2f} ms)")
            if len(t_rs) == ours.n_samples:
                line += (f"; max |time diff| {np.abs(t_rs - ours.time_ns).max() / 1e6:.2f} ms, max |acc diff| "
                         f"{np.abs(acc_rs - ours.acc_mps2).max():.1e} m/s²")
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
