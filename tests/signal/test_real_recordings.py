"""Regression checks on real recordings from other groups (../shared/data), skipped where absent.

alcantara_treadmill: real running on a force treadmill (events and peak vGRF against force).
mobgap_lab: real walking with a multi-sensor reference (steps, left/right, cadence).
"""

from __future__ import annotations

import numpy as np
import pytest

import real_running
import validate

DATA = validate.DEFAULT_DATA / "real"


@pytest.mark.skipif(not (DATA / "alcantara_treadmill").exists(),
                    reason="../shared/data/real/alcantara_treadmill absent")
def test_alcantara_running_events_and_vgrf():
    trials = real_running.load_trials(DATA / "alcantara_treadmill")
    r = real_running.score(trials)
    n_ref = int(r.n_ref.sum())
    assert n_ref == 303 and int(r.n_missed.sum()) == 0 and int(r.n_extra.sum()) == 0
    # what is reached today (benchmarks/real_running.py), with a small margin
    assert abs(1e3 * np.mean(r.ic_err_s)) <= 3.0 and 1e3 * np.std(r.ic_err_s) <= 9.0
    assert abs(1e3 * np.mean(r.to_err_s)) <= 4.0 and 1e3 * np.std(r.to_err_s) <= 19.5
    assert real_running.rmse(r.grf_err_bw) <= 0.20


@pytest.mark.skipif(not (DATA / "mobgap_lab").exists(), reason="../shared/data/real/mobgap_lab absent")
def test_mobgap_walking_steps_feet_and_cadence():
    m = validate.mobgap(DATA / "mobgap_lab")
    # issue targets: recall >= 95 %, left/right >= 95 %, cadence <= 3 %. Recall is not reached
    # yet (turns and the MS participant, docs/validation.md): its floor only catches regressions.
    assert m.n_lr_correct / m.n_lr >= 0.95
    assert float(np.median(np.abs(m.cadence_err_pct))) <= 3.0
    assert m.n_found / m.n_ref >= 0.70
