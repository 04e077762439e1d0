"""Small inline-SVG charts: no dependency, crisp at any zoom, printable, self-contained.

A chart is a ``<figure>`` holding one ``<svg>`` with a ``viewBox`` (it scales to its column),
a ``<title>`` for screen readers, axes with "nice" ticks, a legend, and layers drawn in order:
vertical spans, vertical lines, horizontal bands, shaded areas, lines, points. Every text is XML-escaped here.
Non-finite values break a line instead of being drawn as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np
import numpy.typing as npt

LEFT = "#1f6fb2"
"""Left-side colour (blue); right is orange: distinguishable with common colour blindness."""
RIGHT = "#d9651b"
ALL = "#3a3a3a"
BAND = "#2e9e5b"
"""Green: minimum-change band."""
WARN = "#c0392b"

FloatArray = npt.NDArray[np.float64]


def _arr(values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=float).ravel()


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """A polyline (breaks at NaN); ``fill`` shades down to y = 0 (histograms)."""

    x: Sequence[float] | npt.ArrayLike
    y: Sequence[float] | npt.ArrayLike
    label: str
    color: str = ALL
    width: float = 2.0
    dash: str | None = None
    markers: bool = False
    fill: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Points:
    """Scatter points."""

    x: Sequence[float] | npt.ArrayLike
    y: Sequence[float] | npt.ArrayLike
    label: str
    color: str = ALL
    radius: float = 3.0
    hollow: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Area:
    """A shaded band between ``lo`` and ``hi`` along ``x`` (e.g. an interquartile range)."""

    x: Sequence[float] | npt.ArrayLike
    lo: Sequence[float] | npt.ArrayLike
    hi: Sequence[float] | npt.ArrayLike
    label: str
    color: str = ALL
    opacity: float = 0.15


@dataclass(frozen=True, slots=True, kw_only=True)
class HBand:
    """A horizontal band across the plot (baseline ± smallest real change)."""

    lo: float
    hi: float
    label: str
    color: str = BAND
    opacity: float = 0.12
    edges: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class VSpan:
    """A vertical span (a time window)."""

    x0: float
    x1: float
    label: str
    color: str = "#888888"
    opacity: float = 0.10


@dataclass(frozen=True, slots=True, kw_only=True)
class VLine:
    """A dashed vertical line across the plot at ``x`` (an event: the sensor changed)."""

    x: float
    label: str
    color: str = "#7b3fa0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """Everything one chart shows. ``x_ticks`` = (value, label) pairs, or None for numbers."""

    plot_id: str
    title: str
    x_label: str
    y_label: str
    lines: Sequence[Line] = ()
    points: Sequence[Points] = ()
    areas: Sequence[Area] = ()
    hbands: Sequence[HBand] = ()
    vspans: Sequence[VSpan] = ()
    vlines: Sequence[VLine] = ()
    x_ticks: Sequence[tuple[float, str]] | None = None
    x_range: tuple[float, float] | None = None
    width: int = 560
    height: int = 250
    caption: str = ""
    extra_y: Sequence[float] = field(default_factory=tuple)
    """Values the y axis must include (e.g. 0)."""


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    count = math.ceil((hi - start) / step - 1e-9) + 1
    return [round(start + i * step, 10) for i in range(count)]


def _fmt(v: float, step: float) -> str:
    """Tick ``v`` with the decimals its ``step`` needs: ``2.2`` for a step of 0.1 (not ``2.200``),
    ``2.25`` for 0.25. The step is the difference of two ticks, so it carries float noise (2.3 - 2.2
    is 0.0999...96): read it to 6 significant digits first.
    """
    if not step > 0 or not math.isfinite(step):
        return f"{v:.0f}"
    step = float(f"{step:.6g}")
    decimals = next((d for d in range(5) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 4)
    return f"{v:.{decimals}f}"


def render(chart: Chart) -> str:
    """The chart as an HTML ``<figure>`` with inline SVG."""
    c = chart
    w, h = c.width, c.height
    legend: list[tuple[str, str, str]] = (  # (kind, color, label), in drawing order
        [("box", v.color, v.label) for v in c.vspans]
        + [("dash", v.color, v.label) for v in c.vlines]
        + [("box", b.color, b.label) for b in c.hbands]
        + [("box", a.color, a.label) for a in c.areas]
        + [("dash" if ln.dash else "line", ln.color, ln.label) for ln in c.lines]
        + [("ring" if p.hollow else "dot", p.color, p.label) for p in c.points])
    ml, mr, mb = 58, 14, 42
    legend_svg, rows = _legend(legend, ml, 14, w - mr)
    mt = 18 + 15 * rows
    pw, ph = w - ml - mr, h - mt - mb
    xs: list[FloatArray] = []
    ys: list[FloatArray] = [_arr(c.extra_y)]
    for ln in c.lines:
        xs.append(_arr(ln.x))
        ys.append(_arr(ln.y))
    for pt in c.points:
        xs.append(_arr(pt.x))
        ys.append(_arr(pt.y))
    for ar in c.areas:
        xs.append(_arr(ar.x))
        ys += [_arr(ar.lo), _arr(ar.hi)]
    ys += [_arr([b.lo, b.hi]) for b in c.hbands]
    xs += [_arr([v.x0, v.x1]) for v in c.vspans]
    xs += [_arr([v.x]) for v in c.vlines]
    allx = np.concatenate(xs) if xs else np.empty(0)
    ally = np.concatenate(ys)
    allx, ally = allx[np.isfinite(allx)], ally[np.isfinite(ally)]
    title_id = f"{c.plot_id}-title"
    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{escape(title_id)}" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
             f'<title id="{escape(title_id)}">{escape(c.title)}</title>',
             f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" class="plot-bg"/>']
    has_data = any(np.isfinite(_arr(ln.y)).any() for ln in c.lines) or any(
        np.isfinite(_arr(p.y)).any() for p in c.points)
    if not has_data or allx.size == 0:
        parts.append(f'<text x="{ml + pw / 2}" y="{mt + ph / 2}" text-anchor="middle" class="nodata">'
                     "no data for this plot</text></svg>")
        return _figure(c, "".join(parts))
    x0, x1 = c.x_range if c.x_range else (float(allx.min()), float(allx.max()))
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    yt = nice_ticks(float(ally.min()), float(ally.max()))
    y0, y1 = yt[0], yt[-1]
    if y1 <= y0:
        y1 = y0 + 1

    def sx(v: FloatArray) -> FloatArray:
        return ml + (v - x0) / (x1 - x0) * pw

    def sy(v: FloatArray) -> FloatArray:
        return mt + ph - (v - y0) / (y1 - y0) * ph

    # grid + axes
    ystep = yt[1] - yt[0] if len(yt) > 1 else 1.0
    for t in yt:
        y = float(sy(np.array([t]))[0])
        parts.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                     f"{escape(_fmt(t, ystep))}</text>")
    if c.x_ticks is not None:
        xticks = [(float(v), lab) for v, lab in c.x_ticks if x0 <= v <= x1]
    else:
        vals = [t for t in nice_ticks(x0, x1, 6) if x0 - 1e-9 <= t <= x1 + 1e-9]
        xstep = vals[1] - vals[0] if len(vals) > 1 else 1.0
        xticks = [(t, _fmt(t, xstep)) for t in vals]
    for v, lab in xticks:
        x = float(sx(np.array([v]))[0])
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt + ph}" y2="{mt + ph + 4}" class="axis"/>'
                     f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle" class="tick">'
                     f"{escape(lab)}</text>")
    parts.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{mt + ph}" y2="{mt + ph}" class="axis"/>'
                 f'<line x1="{ml}" x2="{ml}" y1="{mt}" y2="{mt + ph}" class="axis"/>'
                 f'<text x="{ml + pw / 2}" y="{h - 6}" text-anchor="middle" class="label">'
                 f"{escape(c.x_label)}</text>"
                 f'<text transform="translate(13 {mt + ph / 2}) rotate(-90)" text-anchor="middle" '
                 f'class="label">{escape(c.y_label)}</text>')
    parts.append(f'<clipPath id="{escape(c.plot_id)}-clip"><rect x="{ml}" y="{mt}" width="{pw}" '
                 f'height="{ph}"/></clipPath><g clip-path="url(#{escape(c.plot_id)}-clip)">')
    for span in c.vspans:
        a, b = sx(np.array([span.x0, span.x1]))
        parts.append(f'<rect x="{a:.1f}" y="{mt}" width="{max(b - a, 0):.1f}" height="{ph}" '
                     f'fill="{span.color}" fill-opacity="{span.opacity}"/>')
    for vl in c.vlines:
        vx = float(sx(np.array([vl.x]))[0])
        parts.append(f'<line x1="{vx:.1f}" x2="{vx:.1f}" y1="{mt}" y2="{mt + ph}" stroke="{vl.color}" '
                     f'stroke-width="1.5" stroke-dasharray="5 3" class="vline"/>')
    for band in c.hbands:
        edge = sy(np.array([band.lo, band.hi]))
        top, bot = float(edge.min()), float(edge.max())
        parts.append(f'<rect x="{ml}" y="{top:.1f}" width="{pw}" height="{bot - top:.1f}" '
                     f'fill="{band.color}" fill-opacity="{band.opacity}"/>')
        if band.edges:
            for ey in (top, bot):
                parts.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{ey:.1f}" y2="{ey:.1f}" '
                             f'stroke="{band.color}" stroke-dasharray="5 4" stroke-width="1"/>')
    for ar in c.areas:
        ax, alo, ahi = _arr(ar.x), _arr(ar.lo), _arr(ar.hi)
        for seg in _segments(np.isfinite(ax) & np.isfinite(alo) & np.isfinite(ahi)):
            px = sx(ax[seg])
            pts = [*zip(px, sy(ahi[seg]), strict=True),
                   *zip(px[::-1], sy(alo[seg])[::-1], strict=True)]
            parts.append(f'<polygon points="{_pts(pts)}" fill="{ar.color}" fill-opacity="{ar.opacity}"/>')
    for ln in c.lines:
        lx, ly = _arr(ln.x), _arr(ln.y)
        dash = f' stroke-dasharray="{ln.dash}"' if ln.dash else ""
        for seg in _segments(np.isfinite(lx) & np.isfinite(ly)):
            pts = list(zip(sx(lx[seg]), sy(ly[seg]), strict=True))
            if ln.fill:
                base = float(sy(np.array([max(y0, 0.0)]))[0])
                poly = [(pts[0][0], base), *pts, (pts[-1][0], base)]
                parts.append(f'<polygon points="{_pts(poly)}" fill="{ln.color}" fill-opacity="0.15"/>')
            parts.append(f'<polyline points="{_pts(pts)}" fill="none" stroke="{ln.color}" '
                         f'stroke-width="{ln.width}" stroke-linejoin="round"{dash}/>')
            if ln.markers:
                parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.2" fill="{ln.color}"/>'
                          for px, py in pts]
    for pt in c.points:
        qx, qy = _arr(pt.x), _arr(pt.y)
        ok = np.isfinite(qx) & np.isfinite(qy)
        fill = 'fill="none" stroke-width="1.3"' if pt.hollow else f'fill="{pt.color}" fill-opacity="0.55"'
        parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{pt.radius}" stroke="{pt.color}" {fill}/>'
                  for px, py in zip(sx(qx[ok]), sy(qy[ok]), strict=True)]
    parts.append("</g>")
    parts.append(legend_svg)
    parts.append("</svg>")
    return _figure(c, "".join(parts))


def _figure(c: Chart, svg: str) -> str:
    cap = f"<figcaption>{escape(c.caption)}</figcaption>" if c.caption else ""
    return (f'<figure class="plot" id="{escape(c.plot_id)}" data-plot="{escape(c.plot_id)}">'
            f"<h4>{escape(c.title)}</h4>{svg}{cap}</figure>")


LEGEND_CHAR_PX = 6.9
"""Room per legend character (px of the viewBox): the printed legend's 12 px text (screen: 11 px)."""


def _legend(items: list[tuple[str, str, str]], x0: float, y: float, right: float) -> tuple[str, int]:
    """Legend entries left to right, wrapping at ``right``; returns the SVG and the row count."""
    out = []
    x, rows = x0, 1 if any(label for _, _, label in items) else 0
    for kind, color, label in items:
        if not label:
            continue
        item_w = 26 + LEGEND_CHAR_PX * len(label)
        if x > x0 and x + item_w > right:
            x, y, rows = x0, y + 15, rows + 1
        if kind == "box":
            sw = f'<rect x="{x:.0f}" y="{y - 8}" width="14" height="9" fill="{color}" fill-opacity="0.3"/>'
        elif kind == "dot":
            sw = f'<circle cx="{x + 7:.0f}" cy="{y - 4}" r="3.5" fill="{color}" fill-opacity="0.6"/>'
        elif kind == "ring":
            sw = f'<circle cx="{x + 7:.0f}" cy="{y - 4}" r="3.5" fill="none" stroke="{color}" stroke-width="1.3"/>'
        else:
            dash = ' stroke-dasharray="4 3"' if kind == "dash" else ""
            sw = (f'<line x1="{x:.0f}" x2="{x + 14:.0f}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" '
                  f'stroke-width="2.5"{dash}/>')
        out.append(f'{sw}<text x="{x + 18:.0f}" y="{y}" class="legend">{escape(label)}</text>')
        x += item_w
    return "".join(out), rows


def _segments(ok: npt.NDArray[np.bool_]) -> list[slice]:
    """Runs of True in ``ok`` as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _pts(pts: Sequence[tuple[float, float]] | list[tuple[np.floating, np.floating]]) -> str:
    return " ".join(f"{float(a):.1f},{float(b):.1f}" for a, b in pts)


def histogram(*, plot_id: str, title: str, x_label: str,
              groups: Sequence[tuple[str, str, Sequence[float] | npt.ArrayLike]],
              bins: int = 28, scale: float = 1.0, caption: str = "",
              denominators: Sequence[int | None] | None = None) -> str:
    """Distribution of each group (label, colour, values) as % of its values, shared bins.

    Bins span the 1st-99th percentile of all values so a few outliers do not squash the shape;
    percentages are of all values, so the drawn bars of a group add up to about 98 %.
    ``denominators``: per group, the count its percentages are of instead (None: its own values),
    e.g. all steps for a small subgroup, so that five steps do not tower over a thousand.
    """
    vals = [_arr(v) * scale for _, _, v in groups]
    finite = [v[np.isfinite(v)] for v in vals]
    pooled = np.concatenate(finite) if finite else np.empty(0)
    lines = []
    if pooled.size >= 2:
        lo, hi = np.percentile(pooled, [1, 99])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
        dens = list(denominators) if denominators is not None else [None] * len(groups)
        for (label, color, _), v, den in zip(groups, finite, dens, strict=True):
            if v.size == 0:
                continue
            counts = np.histogram(v, bins=edges)[0] / (den or v.size) * 100  # tails beyond: not drawn
            x = np.repeat(edges, 2)[1:-1]
            y = np.repeat(counts, 2)
            lines.append(Line(x=x, y=y, label=f"{label} (n={v.size})", color=color, width=1.6,
                              fill=True))
    chart = Chart(plot_id=plot_id, title=title, x_label=x_label, y_label="% of values",
                  lines=lines, extra_y=(0.0,), caption=caption, height=220)
    return render(chart)
