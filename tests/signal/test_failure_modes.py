"""Steps and feet on the simulator's real-walking failure modes (benchmarks/sim_accuracy.py).

Floors at walking speeds of 0.8 m/s and more (U-turns every 10 m, stops, 40° tilt, heavy soft
tissue, step variability of older adults). Slow walking (0.45 m/s) is where the pipeline loses
most steps today; its figures are printed by sim_accuracy.py and kept in docs/validation.md.
"""

from __future__ import annotations

import sim_accuracy


def test_realistic_walking_at_normal_speed_keeps_steps_and_feet() -> None:
    walks = [(i, sim_accuracy.walking_scenario(i)) for i in range(1, 8)]
    sel = [(i, p) for i, p in walks if p.walk_speed_mps >= 0.8][:4]
    e = sim_accuracy.evaluate(len(sel), 0.0, scenarios=[p for _, p in sel], seeds=[300 + i for i, _ in sel])
    assert e.n_truth_walk > 600
    assert e.n_found_walk >= 0.95 * e.n_truth_walk
    assert e.n_true_pos_walk >= 0.93 * e.n_est_walk
    assert e.walk_foot_ok >= 0.95 * e.walk_foot_n
    assert max(abs(c) for c in e.cadence_err_pct) < 3.0
