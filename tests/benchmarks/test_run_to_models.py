"""benchmarks/run_to_models.py: every toe-off model tried there is right on the contacts it assumes.

Their figures on real and simulated running (docs/validation_log.md, "Running: tried, not kept")
are only evidence against a model if the model itself is implemented right: on analytic half-sine
contacts (each model's assumption) every one places TO within a few ms."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from imuback.signal.activity import RUN, Bouts
from imuback.signal.events import detect_steps
from imuback.signal.params import EventParams

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import run_to_models  # noqa: E402

FS = 500.0


def _half_sines(step_s: float, contact_s: float) -> np.ndarray:
    """Half-sine vGRF contacts (g) whose mean over a step is 1 BW (impulse-momentum)."""
    ph = np.arange(int(40 * step_s * FS)) / FS % step_s
    return np.where(ph < contact_s, step_s / (contact_s * 2 / np.pi) * np.sin(np.pi * ph / contact_s), 0.0)


@pytest.mark.parametrize("name", list(run_to_models.MODELS))
@pytest.mark.parametrize(("step_s", "contact_s"), [(0.33, 0.20), (0.36, 0.24), (0.40, 0.28)])
def test_each_tried_model_places_toe_off_on_half_sine_contacts(name, step_s, contact_s):
    x = _half_sines(step_s, contact_s)
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([RUN], np.int8))
    with run_to_models._with(run_to_models.MODELS[name]):  # 15 Hz: the low-pass barely bends them
        st = detect_steps(x, fs_hz=FS, bounds=np.array([0, x.size]), bouts=bouts,
                          params=EventParams(run_to_lowpass_hz=15.0))
    assert st.n >= 30
    start = np.round(st.ic_pos / FS / step_s) * step_s
    err_ms = 1e3 * (st.to_pos / FS - start - contact_s)[2:-2]  # (the filter's edges aside)
    assert np.all(np.abs(err_ms) <= 3.0), err_ms


def test_the_models_differ_where_contacts_are_not_half_sines():
    # a front-loaded contact (an impact bump over the first fifth): the models disagree, so the
    # comparison on real and simulated contacts measures something
    step_s, contact_s = 0.36, 0.24
    x = _half_sines(step_s, contact_s)
    ph = np.arange(x.size) / FS % step_s
    x = x + np.where(ph < 0.2 * contact_s, 0.8 * np.sin(np.pi * ph / (0.2 * contact_s)), 0.0)
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([RUN], np.int8))
    to = {}
    for name, model in run_to_models.MODELS.items():
        with run_to_models._with(model):
            to[name] = detect_steps(x, fs_hz=FS, bounds=np.array([0, x.size]), bouts=bouts).to_pos
    assert not np.allclose(to["ic"], to["peak"], atol=1.0)  # (samples: 2 ms)
