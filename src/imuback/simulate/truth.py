"""Truth tables per step and per stride, measured on a noise-free fine grid over every gait bout.

IC / TO follow the force-plate convention (each foot's own vGRF crosses a threshold); impact
peaks, vGRF peaks, vertical oscillation and pelvis ranges come from the noise-free model.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from imuback.simulate.gait import Gait
from imuback.simulate.kinematics import contact_vertical, evaluate, sacral_vertical_g
from imuback.simulate.params import F64, I64, RunnerParams
from imuback.store import schema as S

TRUTH_FS_HZ = 250.0
"""Rate of the noise-free grid the truth tables are measured on (Hz); peaks refined at 1 kHz."""


def _segment_reduce(v: F64, starts: I64, ends: I64) -> tuple[F64, F64]:
    """Max and min of ``v`` over each ``[starts[i], ends[i])`` (non-empty, may overlap)."""
    vp = np.append(v, v[-1])
    idx = np.empty(2 * starts.size, dtype=np.int64)
    idx[0::2], idx[1::2] = starts, ends
    mx = np.maximum.reduceat(vp, idx)[0::2]
    mn = np.minimum.reduceat(vp, idx)[0::2]
    return mx, mn


def _detrended_range(t: F64, v: F64, i0: I64, i1: I64) -> F64:
    """Range of ``v`` over ``[i0, i1]`` after removing the line through its end points.

    Windows of the same parity (every other one) never overlap, so each pass maps every sample
    to at most one window.
    """
    out = np.empty(i0.size)
    for par in (0, 1):
        sel = np.arange(par, i0.size, 2)
        if sel.size == 0:
            continue
        a, b = i0[sel], i1[sel]
        w = np.searchsorted(a, np.arange(t.size), side="right") - 1
        wc = np.clip(w, 0, sel.size - 1)
        inside = (w >= 0) & (np.arange(t.size) <= b[wc])
        slope = (v[b] - v[a]) / np.maximum(t[b] - t[a], 1e-12)
        d = np.where(inside, v - (v[a[wc]] + slope[wc] * (t - t[a[wc]])), np.nan)
        seg_ends = b + 1
        mx, mn = _segment_reduce(np.nan_to_num(d, nan=0.0), a, seg_ends)
        out[sel] = mx - mn
    return out


def _range(v: F64, i0: I64, i1: I64) -> F64:
    mx, mn = _segment_reduce(v, i0, i1 + 1)
    return mx - mn


def _own_crossings(g: Gait, thr_bw: float) -> tuple[F64, F64]:
    """Times (s from support start) where each foot's own vGRF crosses ``thr_bw`` up and down."""
    st = g.st
    j = np.arange(st.s.size)
    lo = np.zeros(j.size)
    hi = np.minimum(0.1 * st.tc, g.imp_half + 0.0)
    hi = np.maximum(hi, 0.02 * st.tc)
    # the toe-off: in the contact's last tenth, where its hump falls to 0; at a stop from walking
    # from the step's end, where the foot unloads (monotonically) to 0 at tc over the double support
    lo2, hi2 = np.minimum(0.9 * st.tc, g.hump_cut), st.tc.copy()
    for _ in range(40):  # vectorised bisection over all contacts
        mid = 0.5 * (lo + hi)
        f = contact_vertical(g, j, st.s + mid, 0, own_only=True)[0]
        up = f >= thr_bw
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
        mid2 = 0.5 * (lo2 + hi2)
        f2 = contact_vertical(g, j, st.s + mid2, 0, own_only=True)[0]
        above = f2 >= thr_bw
        lo2 = np.where(above, mid2, lo2)
        hi2 = np.where(above, hi2, mid2)
    return 0.5 * (lo + hi), 0.5 * (lo2 + hi2)


def truth_tables(p: RunnerParams, g: Gait, thr_bw: float, session_id: str, runner_id: str,
                  t0_ns: int) -> tuple[pa.Table, pa.Table, F64, F64]:
    """Steps and strides truth measured on a noise-free 1 kHz grid over every gait bout."""
    st = g.st
    n = st.s.size
    on, off = _own_crossings(g, thr_bw) if n else (np.zeros(0), np.zeros(0))
    ic = st.s + on
    to = st.s + off
    same_next = np.r_[st.bout[1:] == st.bout[:-1], False]
    nxt = np.r_[ic[1:], np.nan]
    step_time = np.where(same_next, nxt - ic, np.nan)
    contact = to - ic
    flight = np.where(same_next & st.run, nxt - to, np.nan)
    cadence = 60.0 / step_time
    # fine grid over each bout
    impact = np.full(n, np.nan)
    grf = np.full(n, np.nan)
    vo = np.full(n, np.nan)
    n_str = 0
    stride_rows: dict[str, list[F64]] = {k: [] for k in ("k", "rot", "obl", "tilt", "ml", "t0", "t1")}
    for b in np.unique(st.bout):  # few bouts
        idx = np.flatnonzero(st.bout == b)
        ta = st.s[idx[0]] - 0.05
        tb = st.s[idx[-1]] + max(st.T[idx[-1]], st.tc[idx[-1]]) + max(g.ramp_s, g.ramp_end_s[idx[-1]]) + 0.05
        tf = np.arange(ta, tb, 1.0 / TRUTH_FS_HZ)
        ev = evaluate(g, tf, positions=True, horizontal=False)
        sv = ev["F"] + ev["wob_g"]  # sacral vertical specific force, g
        i_ic = np.searchsorted(tf, ic[idx])
        i_to = np.searchsorted(tf, to[idx], side="right")
        mx, _ = _segment_reduce(sv, i_ic, np.maximum(i_to, i_ic + 1))
        # refine local maxima above 1 g on a 1 ms grid (+-4 ms): the tissue ringing is 12-25 Hz
        lm = np.flatnonzero((sv[1:-1] >= sv[:-2]) & (sv[1:-1] > sv[2:])) + 1
        lm = lm[sv[lm] > 1.0]
        if lm.size:
            t_ref = (tf[lm][:, None] + np.arange(-4, 5)[None, :] * 1e-3).ravel()
            v_ref = sacral_vertical_g(g, t_ref).reshape(lm.size, 9).max(axis=1)
            a_i = np.searchsorted(tf[lm], ic[idx])
            b_i = np.searchsorted(tf[lm], to[idx], side="right")
            mr, _ = _segment_reduce(v_ref, np.minimum(a_i, lm.size - 1), np.maximum(b_i, a_i + 1))
            mx = np.where(b_i > a_i, np.maximum(mx, mr), mx)
        impact[idx] = mx
        f_cur = ev["F_own_c"]
        f_prev = ev["F_own_m"]
        # vectorised: current-contact part is [ic_j, s_{j+1}), previous part [s_{j+1}, to_j]
        s_next = np.r_[st.s[idx[1:]], np.inf]
        i_sn = np.searchsorted(tf, s_next)
        a_end = np.minimum(i_sn, i_to)
        m1c, _ = _segment_reduce(f_cur, i_ic, np.maximum(a_end, i_ic + 1))
        m2p, _ = _segment_reduce(f_prev, np.minimum(i_sn, i_to), np.maximum(i_to, np.minimum(i_sn, i_to) + 1))
        m2p = np.where(i_sn < i_to, m2p, -np.inf)
        grf[idx] = np.maximum(m1c, m2p)
        # vertical oscillation: range of sacral height from this IC to the next IC
        has_next = same_next[idx]
        i_nx = np.r_[i_ic[1:], i_ic[-1] + 1]
        zmx, zmn = _segment_reduce(ev["z"], i_ic, np.maximum(i_nx + 1, i_ic + 1))
        vo[idx] = np.where(has_next, (zmx - zmn) * 100.0, np.nan)
        # strides: step k to step k + 2 in the same bout
        if idx.size >= 3:
            ks = idx[:-2]
            i0 = i_ic[:-2]
            i1 = i_ic[2:]
            stride_rows["k"].append(ks.astype(float))
            stride_rows["rot"].append(np.degrees(_detrended_range(tf, ev["yaw"], i0, i1)))
            stride_rows["obl"].append(np.degrees(_range(ev["roll"], i0, i1)))
            stride_rows["tilt"].append(np.degrees(_range(ev["pitch"], i0, i1)))
            stride_rows["ml"].append(_detrended_range(tf, ev["y"], i0, i1) * 100.0)
            stride_rows["t0"].append(ic[ks])
            stride_rows["t1"].append(ic[idx[2:]])
            n_str += ks.size
    foot = np.where(st.side > 0, "R", "L")
    act = np.where(st.run, "run", "walk")

    def _ts(x: F64) -> pa.Array:
        return pa.array(t0_ns + np.round(x * 1e9).astype(np.int64), type=pa.int64()).cast(S.TIME_TYPE)

    def _f64(x: F64) -> pa.Array:
        return pa.array(x, type=pa.float64(), from_pandas=True)

    sf = S.STEPS_SCHEMA
    steps_cols = {
        "session_id": pa.array([session_id] * n, type=pa.string()),
        "runner_id": pa.array([runner_id] * n, type=pa.string()),
        "step": pa.array(np.arange(n, dtype=np.int32), type=pa.int32()),
        "foot": pa.array(foot.tolist(), type=pa.string()),
        "activity": pa.array(act.tolist(), type=pa.string()),
        "ic_time": _ts(ic),
        "to_time": _ts(to),
        "step_time_s": _f64(step_time),
        "contact_time_s": _f64(contact),
        "flight_time_s": _f64(flight),
        "cadence_spm": _f64(cadence),
        "impact_peak_g": _f64(impact),
        "grf_peak_bw": _f64(grf),
        "vertical_oscillation_cm": _f64(vo),
    }
    fields = [sf.field(k) for k in steps_cols]
    fields[fields.index(sf.field("impact_peak_g"))] = pa.field(
        "impact_peak_g", pa.float64(), metadata={"unit": "g", "description":
            "peak of the noise-free sacral vertical (world) specific force from IC to TO"})
    fields[fields.index(sf.field("grf_peak_bw"))] = pa.field(
        "grf_peak_bw", pa.float64(), metadata={"unit": "body weights", "description":
            "peak of this foot's vertical GRF (force-plate truth)"})
    steps_tbl = pa.Table.from_arrays(list(steps_cols.values()), schema=pa.schema(fields))
    steps_tbl = steps_tbl.append_column(
        pa.field("bout", pa.int32(), metadata={"unit": "", "description": "0-based gait bout"}),
        pa.array(st.bout.astype(np.int32)))
    # strides
    def _cat(key: str) -> F64:
        return np.concatenate(stride_rows[key]) if stride_rows[key] else np.zeros(0)

    ks_all = _cat("k").astype(np.int64)
    tf_ = S.STRIDES_SCHEMA
    stride_cols = {
        "session_id": pa.array([session_id] * n_str, type=pa.string()),
        "runner_id": pa.array([runner_id] * n_str, type=pa.string()),
        "stride": pa.array(np.arange(n_str, dtype=np.int32), type=pa.int32()),
        "foot": pa.array(foot[ks_all].tolist(), type=pa.string()),
        "start_time": _ts(_cat("t0")),
        "stride_time_s": _f64(_cat("t1") - _cat("t0")),
        "pelvis_rotation_deg": _f64(_cat("rot")),
        "pelvis_obliquity_deg": _f64(_cat("obl")),
        "pelvis_tilt_deg": _f64(_cat("tilt")),
        "ml_excursion_cm": _f64(_cat("ml")),
    }
    sfields = [tf_.field(k) for k in stride_cols]
    strides_tbl = pa.Table.from_arrays(list(stride_cols.values()), schema=pa.schema(sfields))
    strides_tbl = strides_tbl.append_column(
        pa.field("step", pa.int32(), metadata={"unit": "", "description": "index of the first step"}),
        pa.array(ks_all.astype(np.int32)))
    strides_tbl = strides_tbl.append_column(
        pa.field("activity", pa.string(), metadata={"unit": "", "description": "'run' or 'walk'"}),
        pa.array(act[ks_all].tolist(), type=pa.string()))
    strides_tbl = strides_tbl.append_column("_start_s", pa.array(_cat("t0")))
    strides_tbl = strides_tbl.append_column("_end_s", pa.array(_cat("t1")))
    return steps_tbl, strides_tbl, ic, to


def _col(tbl: pa.Table, name: str) -> F64:
    return np.asarray(tbl.column(name).to_numpy(zero_copy_only=False), dtype=float)


def _mark_lost(tbl: pa.Table, name: str, a: F64, b: F64, gs: F64, ge: F64) -> pa.Table:
    """Add a bool column: interval [a, b] overlaps any gap [gs, ge) (sorted, disjoint)."""
    if gs.size == 0:
        lost = np.zeros(a.size, dtype=bool)
    else:
        i = np.searchsorted(ge, a, side="right")
        ic = np.clip(i, 0, gs.size - 1)
        lost = (i < gs.size) & (gs[ic] < b)
    field_ = pa.field(name, pa.bool_(), nullable=False,
                      metadata={"unit": "", "description": "the interval overlaps a gap in the recording"})
    return tbl.append_column(field_, pa.array(lost, type=pa.bool_()))


def mark_gaps(steps_tbl: pa.Table, strides_tbl: pa.Table, ic_s: F64, to_s: F64,
              gaps_s: tuple[tuple[float, float], ...]) -> tuple[pa.Table, pa.Table]:
    """Add ``lost_in_gap`` to the steps and strides tables; drop the strides' helper time columns.

    ``ic_s``, ``to_s`` : (n_steps,) IC / TO in s since session start; ``gaps_s`` sorted, disjoint.
    """
    g_s = np.array([g[0] for g in gaps_s]) if gaps_s else np.zeros(0)
    g_e = np.array([g[1] for g in gaps_s]) if gaps_s else np.zeros(0)
    steps_tbl = _mark_lost(steps_tbl, "lost_in_gap", ic_s, to_s, g_s, g_e)
    s_start = _col(strides_tbl, "_start_s")
    s_end = _col(strides_tbl, "_end_s")
    strides_tbl = _mark_lost(strides_tbl, "lost_in_gap", s_start, s_end, g_s, g_e)
    strides_tbl = strides_tbl.drop(["_start_s", "_end_s"])
    return steps_tbl, strides_tbl
