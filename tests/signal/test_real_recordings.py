"""Regression checks on real recordings from other groups (../shared/data), skipped where absent.

Where they are absent, ``python benchmarks/get_real_data.py`` fetches them (checked by SHA-256).

alcantara_treadmill: real running on a force treadmill (events and peak vGRF against force).
mobgap_lab: real walking with a multi-sensor reference (steps, left/right, cadence).
"""

from __future__ import annotations

import numpy as np
import pytest

import validate
from get_real_data import COMMAND

DATA = validate.DEFAULT_DATA / "real"


@pytest.mark.skipif(not (DATA / "alcantara_treadmill").exists(),
                    reason=f"../shared/data/real/alcantara_treadmill absent: run {COMMAND}")
def test_alcantara_running_events_and_vgrf():
    r = validate.alcantara(DATA / "alcantara_treadmill")
    assert r.n_missed == 0
    assert r.n_extra <= 0.01 * r.n_ref
    assert abs(1e3 * np.mean(r.ic_err_s)) <= 10.0 and 1e3 * np.std(r.ic_err_s) <= 15.0
    assert abs(1e3 * np.mean(r.to_err_s)) <= 10.0 and 1e3 * np.std(r.to_err_s) <= 20.0
    assert float(np.sqrt(np.mean(r.grf_err_bw ** 2))) <= 0.20


@pytest.mark.skipif(not (DATA / "mobgap_lab").exists(),
                    reason=f"../shared/data/real/mobgap_lab absent: run {COMMAND}")
def test_mobgap_walking_steps_feet_and_cadence():
    m = validate.mobgap(DATA / "mobgap_lab")
    # issue targets: recall >= 95 %, left/right >= 95 %, cadence <= 3 %. Recall is not reached
    # yet (turns and the MS participant, docs/validation.md): its floor only catches regressions.
    assert m.n_lr_correct / m.n_lr >= 0.95
    assert float(np.median(np.abs(m.cadence_err_pct))) <= 3.0
    assert m.n_found / m.n_ref >= 0.70
