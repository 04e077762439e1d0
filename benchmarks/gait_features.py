"""Per-bout gait-structure features (signal/gait_check.py) on real gait, simulated gait and non-gait.

    python benchmarks/gait_features.py [--data ../shared/data]

Prints, per source, the smallest off-axis ratio, rotation (deg/s) and (accelerometer-only) step
coupling over its bouts (``coup10``: over its bouts of 10 steps or more), and the number of bouts
rejected: the figures the thresholds in ``GaitCheckParams`` were chosen from. The check is run on
exactly what the pipeline hands it (samples, bouts, the detectors' step ICs before refinement).
Non-gait: white noise (also 20 shorter recordings each of 15, 30 and 60 s), a 2.8 Hz vibration
(vertical and tilted), a car ride. Real walking and the simulated sessions (runs with walks;
realistic walks at 0.45-1.35 m/s) also with the gyroscope ignored, and a simulated irregular
accelerometer-only walk.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

from imuback.core import RawSession
from imuback.signal import session
from imuback.signal.frames import G_MPS2
from imuback.signal.gait_check import GaitVerdict, check_gait
from imuback.signal.params import GaitCheckParams, PipelineParams
from imuback.signal.session import analyse_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running

F64 = npt.NDArray[np.float64]
T0_NS = 1_600_000_000 * 10**9


NO_CHECK = PipelineParams(gait_check=GaitCheckParams(min_off_axis_ratio=0.0, min_rotation_dps=0.0,
                                                     min_step_coupling=-np.inf))
"""The pipeline with every step kept: the check is then applied here, to show its margins."""


def verdict(raw: RawSession, *, drop_gyro: bool = False) -> GaitVerdict:
    """The gait check (default thresholds) of every step the detectors found, on exactly the
    samples, bouts and step ICs the pipeline hands it (``drop_gyro``: the session without its
    gyroscope, as ``validate.py --no-gyro``)."""
    if drop_gyro:
        raw = replace(raw, gyr_dps=None)
    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def record(*args: Any, **kwargs: Any) -> GaitVerdict:
        seen.append((args, kwargs))
        return check_gait(*args, **kwargs)

    with patch.object(session, "check_gait", record):
        analyse_session(raw, params=NO_CHECK)
    args, kwargs = seen[0]
    return check_gait(*args, **{k: v for k, v in kwargs.items() if k != "params"})


def load_voisard(root: Path) -> list[RawSession]:
    """voisard_l5_walk's L5 recordings as raw sessions, read by imuback's Xsens reader (Xsens X up,
    Y left, Z back; rad/s -> deg/s; dropped packets stay missing samples).
    """
    from imuback.formats.xsens import read_xsens

    r = np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64)
    return [read_xsens(f, runner_id="voisard", session_id=f.stem, start="2020-09-13T12:26:40Z", mounting=r)
            for f in sorted(root.glob("GaitData/*_lb.txt"))]


def non_gait(rng: np.random.Generator, *, seconds: float = 120.0, fs_hz: float = 100.0,
             gyro_noise_dps: float = 4.0) -> dict[str, tuple[F64, F64]]:
    """Synthetic non-gait recordings (acc m/s², gyro deg/s; sensor = body frame, z up), as
    (acc, gyr) by name: white noise of 0.3 g on every axis around gravity; a pure 2.8 Hz
    vibration of 0.5 g (a machine, a car seat), vertical and along a line tilted 45° forward; a
    car ride (road bumps 1-15 Hz, 30 Hz engine hum, slow lateral/forward sway of curves and
    braking, yaw of the curves). The gyroscope of the noise and the vibrations is white noise of
    ``gyro_noise_dps`` per axis (a consumer MEMS gyro at 100 Hz: ~1-5 deg/s; below ~2.3 deg/s
    the session is refused as possibly in rad/s, core.check_units)."""
    n = round(seconds * fs_hz)
    t = np.arange(n) / fs_hz
    g = np.array([0.0, 0.0, G_MPS2])
    noise = (g + rng.normal(0.0, 0.3 * G_MPS2, (n, 3)), rng.normal(0.0, gyro_noise_dps, (n, 3)))
    shake = 0.5 * G_MPS2 * np.sin(2 * np.pi * 2.8 * t)
    vib = np.tile(g, (n, 1)) + rng.normal(0.0, 0.01 * G_MPS2, (n, 3))
    tilted = vib.copy()
    vib[:, 2] += shake
    tilted += shake[:, None] * np.array([np.sqrt(0.5), 0.0, np.sqrt(0.5)])
    road = sosfiltfilt(butter(2, [1.0, 15.0], "bandpass", fs=fs_hz, output="sos"), rng.normal(0.0, 1.0, n))
    car = np.tile(g, (n, 1))
    car[:, 2] += 0.3 * G_MPS2 * road / road.std() + 0.05 * G_MPS2 * np.sin(2 * np.pi * 30.0 * t)
    car[:, 1] += 0.2 * G_MPS2 * np.sin(2 * np.pi * 0.05 * t)
    car[:, 0] += 0.1 * G_MPS2 * np.sin(2 * np.pi * 0.03 * t)
    car_gyr = rng.normal(0.0, 0.5, (n, 3))
    car_gyr[:, 2] += 10.0 * np.sin(2 * np.pi * 0.05 * t)
    return {"white-noise": noise, "vibration-2.8Hz": (vib, rng.normal(0.0, gyro_noise_dps, (n, 3))),
            "vibration-2.8Hz-tilted": (tilted, rng.normal(0.0, gyro_noise_dps, (n, 3))),
            "car-ride": (car, car_gyr)}


def burst(rng: np.random.Generator, seconds: float, *, fs_hz: float = 100.0) -> F64:
    """A burst of 0.3 g white noise (a sensor handled or knocked) between 30 s of standing (body
    frame, accelerometer only)."""
    def still(n: int) -> F64:
        return np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.005 * G_MPS2, (n, 3))

    noise = np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.3 * G_MPS2, (round(seconds * fs_hz), 3))
    return np.concatenate([still(round(30 * fs_hz)), noise, still(round(30 * fs_hz))])


def irregular_walk(rng: np.random.Generator, *, repeats: int = 4) -> tuple[F64, float]:
    """A simulated irregular daily-life walk, accelerometer only (body frame, 100 Hz), and its
    expected number of steps: short walks of 2-4 s cut from simulated walking at four cadences
    (84-124 steps/min, 0.8-1.35 m/s, step time CV 10 %, U-turns every 10 m), each followed by
    0.4-1.2 s of standing, ``repeats`` times; the walks' cadences change from one to the next.
    """
    from imuback.simulate.runner import simulate_session
    from sim_accuracy import walking_scenario

    gaits = ((0.8, 84.0), (1.35, 124.0), (1.0, 100.0), (1.2, 112.0))
    sims = [simulate_session(replace(walking_scenario(1), walk_speed_mps=v, walk_cadence_spm=c, mounting="identity",
                                     misalignment_deg=0.0, walk_step_time_cv=0.1),
                             seed=40 + j, session_id="walk", runner_id="sim", start_time=T0_NS).raw.acc_mps2
            for j, (v, c) in enumerate(gaits)]
    pieces, steps = [], 0.0
    for _ in range(repeats):
        for (_v, cadence), acc in zip(gaits, sims, strict=True):
            n, s0 = round(rng.uniform(2.0, 4.0) * 100), round(rng.uniform(10.0, 60.0) * 100)
            stand_n = round(rng.uniform(0.4, 1.2) * 100)
            stand = np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.01 * G_MPS2, (stand_n, 3))
            pieces += [acc[s0:s0 + n].astype(np.float64), stand]
            steps += n / 100.0 * cadence / 60.0
    return np.concatenate(pieces), steps


def raw_of(acc: F64, gyr: F64 | None, *, name: str, fs_hz: float = 100.0) -> RawSession:
    """A raw session of body-frame samples from t = 0."""
    n = acc.shape[0]
    return RawSession(session_id=name, runner_id="synthetic", sensor="synthetic", sample_rate_hz=fs_hz,
                      time_ns=(T0_NS + np.round(np.arange(n) / fs_hz * 1e9)).astype(np.int64),
                      acc_mps2=acc.astype(np.float32), gyr_dps=None if gyr is None else gyr.astype(np.float32))


def _line(name: str, vs: list[GaitVerdict], *, worst: str = "min") -> str:
    def low(x: list[F64]) -> str:
        c = np.concatenate(x) if x else np.zeros(0)
        c = c[np.isfinite(c)]
        return f"{getattr(c, worst)():6.2f}" if c.size else f"{'-':>6}"

    long = [v.step_coupling[v.coupling_steps >= 10] for v in vs]
    n = sum(v.bout.size for v in vs)
    rej = sum(int((~v.keep).sum()) for v in vs)
    return (f"{name:<38}{n:>6}{rej:>9}  {low([v.off_axis_ratio for v in vs])}  "
            f"{low([v.rotation_dps for v in vs])}  {low([v.step_coupling for v in vs])}  {low(long)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    print("gait: the smallest value over its bouts; non-gait: the largest")
    print(f"{'source':<38}{'bouts':>6}{'rejected':>9}  {'off':>6}  {'rot':>6}  {'coup':>6}  {'coup10':>6}")
    for name, (acc, gyr) in non_gait(np.random.default_rng(7)).items():
        print(_line(f"{name}, 6-axis", [verdict(raw_of(acc, gyr, name=name))], worst="max"))
        print(_line(f"{name}, acc only", [verdict(raw_of(acc, None, name=name))], worst="max"))
    for seconds in (60.0, 30.0, 15.0):
        noises = [non_gait(np.random.default_rng(1000 + i), seconds=seconds)["white-noise"][0] for i in range(20)]
        vs = [verdict(raw_of(a, None, name="noise")) for a in noises]
        print(_line(f"white-noise {seconds:.0f} s x 20, acc only", vs, worst="max"))
    for seconds in (4.0, 8.0, 15.0, 30.0):  # a sensor handled or knocked between standing
        vs = [verdict(raw_of(burst(np.random.default_rng(2000 + i), seconds), None, name="burst")) for i in range(10)]
        print(_line(f"noise burst {seconds:.0f} s in standing x 10, acc", vs, worst="max"))
    real = args.data / "real"
    if (real / "alcantara_treadmill").exists():
        trials = real_running.load_trials(real / "alcantara_treadmill")
        print(_line("alcantara running (acc only)", [verdict(t.raw) for t in trials]))
    if (real / "mobgap_lab").exists():
        import real_walking

        raws = [real_walking.mobgap_raw(n, x) for n, x in real_walking.mobgap_mat_trials(real / "mobgap_lab")]
        print(_line("mobgap walking", [verdict(r) for r in raws]))
        print(_line("mobgap walking, gyro ignored", [verdict(r, drop_gyro=True) for r in raws]))
    if (real / "voisard_l5_walk").exists():
        raws = load_voisard(real / "voisard_l5_walk")
        print(_line("voisard walking", [verdict(r) for r in raws]))
        print(_line("voisard walking, gyro ignored", [verdict(r, drop_gyro=True) for r in raws]))
    from imuback.simulate.runner import simulate_session
    from sim_accuracy import scenario, walking_scenario

    sims = [simulate_session(scenario(i, 3.0), seed=100 + i, session_id=f"sim{i}", runner_id="sim",
                             start_time=T0_NS).raw for i in range(6)]
    print(_line("simulated run + walks", [verdict(r) for r in sims]))
    print(_line("simulated run + walks, gyro ignored", [verdict(r, drop_gyro=True) for r in sims]))
    walks = [simulate_session(walking_scenario(i), seed=300 + i, session_id=f"walk{i}", runner_id="sim",
                              start_time=T0_NS).raw for i in range(4)]
    print(_line("sim. realistic walks 0.45-1.35 m/s", [verdict(r) for r in walks]))
    print(_line("the same, gyro ignored", [verdict(r, drop_gyro=True) for r in walks]))
    acc, _steps = irregular_walk(np.random.default_rng(5))
    print(_line("simulated irregular walk, acc only", [verdict(raw_of(acc, None, name="irregular"))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
