"""What slow steps look like at the lower back: how weak and how irregular, found and missed.

    python benchmarks/slow_steps.py [--data ../shared/data]

Sets as in ``benchmarks/slow_feet.py``: the simulated realistic walks at 0.45 m/s (truth ICs), and
mobgap_lab's reference bouts slower than 0.6 m/s (INDIP, and stereophotogrammetry as a second
opinion); voisard_l5_walk's slowest trials (< 0.95 m/s) for comparison. Per reference IC, with the
pipeline's own body frame (not its events):

- ``T/med``: this IC to the next one over the 5-step running median of that interval (consecutive
  reference ICs under 4 s apart); ``short`` below 0.7 (a shuffle's quick step), ``stall`` above 1.6
  (a near-stop inside the walk);
- ``vert/med``: the vertical peak (3 Hz low-passed, maximum over 0-0.3 s after the IC, less the
  mean over the IC ± 1 s) over its 5-step running median; ``weak`` below 0.5;
- ``brake/med``: likewise the forward braking (the minimum over 0-0.3 s, sign flipped);
- found: a walking detection of the pipeline within ±100 ms (one-to-one).

For choosing *which* phenomenon the simulator lacks, never its size (issue #14 item 7).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slow_feet as sf
from imuback.core import G_MPS2
from imuback.signal.activity import WALK
from imuback.signal.dsp import lowpass
from imuback.signal.params import PipelineParams
from matching import match

F64 = npt.NDArray[np.float64]


def step_rows(got: dict, s: sf.Slow) -> dict[str, F64]:
    """Per kept reference IC with a next IC under 4 s later: interval, vertical and braking ratios, found."""
    b = got["body"]
    fs = b.fs_hz
    bounds = np.array([0, b.n])
    vert = lowpass(b.acc_mps2[:, 2].astype(np.float64) / G_MPS2, 3.0, fs, bounds)
    fwd = lowpass(b.acc_mps2[:, 0].astype(np.float64) / G_MPS2, 3.0, fs, bounds)
    ic = s.ic_s[s.keep]
    nxt = np.append(np.diff(ic), np.inf)
    i0 = np.round(ic * fs).astype(np.int64)
    w, h = round(0.3 * fs), round(1.0 * fs)
    ok = (nxt < 4.0) & (i0 - h >= 0) & (i0 + h < b.n)
    ic, nxt, i0 = ic[ok], nxt[ok], i0[ok]
    if ic.size < 5:
        return {}
    win = i0[:, None] + np.arange(w)[None, :]
    ctx = i0[:, None] + np.arange(-h, h)[None, :]
    vp = vert[win].max(axis=1) - vert[ctx].mean(axis=1)
    br = -(fwd[win].min(axis=1) - fwd[ctx].mean(axis=1))
    found = np.zeros(ic.size, bool)
    st = got.get("steps")
    if st is not None and st.n:
        walk = np.flatnonzero(st.activity == WALK)
        found[match(st.ic_pos[walk] / got["fs"], ic, 0.1)[1]] = True

    def rel(x: F64) -> F64:
        out: F64 = x / np.maximum(median_filter(x, size=5, mode="nearest"), 1e-6)
        return out

    return {"T": nxt, "T_rel": rel(nxt), "v_rel": rel(vp), "b_rel": rel(br), "found": found.astype(float)}


def _line(name: str, r: dict[str, F64]) -> str:
    f = r["found"] > 0
    short, stall, weak = r["T_rel"] < 0.7, r["T_rel"] > 1.6, r["v_rel"] < 0.5

    def med(x: F64, m: npt.NDArray[np.bool_]) -> str:
        return f"{np.median(x[m]):5.2f}" if m.any() else "  nan"

    return (f"{name:38s} {f.size:5d} {100 * f.mean():6.1f} | {100 * short.mean():5.1f} {100 * stall.mean():5.1f} "
            f"{100 * weak.mean():5.1f} | {med(r['v_rel'], f)} {med(r['v_rel'], ~f)} {med(r['b_rel'], f)} "
            f"{med(r['b_rel'], ~f)} | {100 * (short & ~f).sum() / max((~f).sum(), 1):5.1f} "
            f"{100 * (stall & ~f).sum() / max((~f).sum(), 1):5.1f} {100 * (weak & ~f).sum() / max((~f).sum(), 1):5.1f}"
            f" | {np.percentile(r['T'], 5):4.2f}-{np.percentile(r['T'], 95):4.2f}")


def stall_line(name: str, r: dict[str, F64]) -> str:
    """The steps into a stall (``T/med`` > 1.6) against the weak ones (``vert/med`` < 0.5): counts both
    ways and the stall steps' vertical ratio range."""
    stall, weak = r["T_rel"] > 1.6, r["v_rel"] < 0.5
    rng = f"{r['v_rel'][stall].min():5.2f} to {r['v_rel'][stall].max():4.2f}" if stall.any() else "  nan"
    return (f"{name:38s} {int(stall.sum()):5d} {int((stall & weak).sum()):5d}  {rng:>13s} | "
            f"{int(weak.sum()):5d} {int((weak & stall).sum()):5d}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args(argv)
    sets: dict[str, list[dict[str, F64]]] = {}
    for s in sf.slow_recordings(args.data):
        r = step_rows(sf.capture(s.raw, PipelineParams()), s)
        if r:
            sets.setdefault(s.set_name, []).append(r)
    print("# slow steps at the lower back (T/med, vert/med, brake/med: over the 5-step running median)")
    print(f"{'set':38s} {'n':>5s} {'found':>6s} | {'short':>5s} {'stall':>5s} {'weak':>5s} | "
          f"{'v fnd':>5s} {'v mis':>5s} {'b fnd':>5s} {'b mis':>5s} | of missed: {'short':>5s} {'stall':>5s} "
          f"{'weak':>5s} | T 5-95 % s")
    rows = {name: {k: np.concatenate([x[k] for x in rs]) for k in rs[0]} for name, rs in sets.items()}
    for name, r in rows.items():
        print(_line(name, r))
    print("\n# steps into a stall and weak steps, counted both ways")
    print(f"{'set':38s} {'stall':>5s} {'weak':>5s}  {'their vert/med':>13s} | {'weak':>5s} {'stall':>5s}"
          "   (steps into a stall, of them weak, their range | weak steps, of them into a stall)")
    for name, r in rows.items():
        print(stall_line(name, r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
