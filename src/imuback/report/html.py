"""HTML building blocks: escaping by default, tables, flags, the page shell and its footer.

A report is one self-contained file: inline CSS, inline SVG, no script, and a Content Security
Policy that forbids every network fetch, so it opens offline and cannot call home. Every string
is escaped unless it is :class:`Markup` (HTML this package built itself).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path

from imuback.report.analysis import Flag

FOOTER = (
    "Informational only — this is not a diagnosis and not medical advice. imuback describes how "
    "you ran; it does not assess injury or decide whether you should run. See a physical "
    "therapist or doctor if pain persists beyond one to two weeks or changes how you run. Seek "
    "urgent care for red flags: numbness in the saddle area, bladder or bowel changes, weakness "
    "in both legs, fever, or pain after a fall or other trauma."
)
"""The footer of every report (DOMAIN.md, "Reports — what a PT expects")."""

LEVEL_TEXT = {"notable": "Notable", "watch": "Watch", "info": "Note", "quality": "Data"}


COUNT_TEXT = {"notable": "notable", "watch": "watch", "info": "info", "quality": "data"}
"""The levels as a count says them (:func:`flags_text`): ``info`` for a NOTE, as a list of
sessions stands beside the runner's own pain and effort notes, and "3 notes" there read as theirs."""


def flags_text(flags: Sequence[Flag]) -> str:
    """The findings of a session counted by level, most serious first: ``1 notable, 2 watch,
    1 info`` (``none`` without any); so a list of sessions does not add a NOTE to a WATCH as one
    number. A NOTE is counted as ``info`` (:data:`COUNT_TEXT`).
    """
    n = Counter(f.level for f in flags)
    return ", ".join(f"{n[lv]} {COUNT_TEXT[lv]}" for lv in LEVEL_TEXT if n[lv]) or "none"


class Markup(str):
    """HTML built by this package: inserted as is. Everything else is escaped."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """Escape ``value`` for HTML text and attributes, unless it is already :class:`Markup`."""
    if isinstance(value, Markup):
        return value
    return Markup(escape("" if value is None else str(value), quote=True))


VOID_ELEMENTS = frozenset({"input", "br", "meta", "img"})
"""Elements without content or end tag."""


def tag(name: str, content: object = "", /, **attrs: object) -> Markup:
    """``<name attrs>content</name>`` with escaped attributes and content (``<input attrs>`` alone)."""
    attr = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items()
                   if v is not None)
    if name in VOID_ELEMENTS:
        return Markup(f"<{name}{attr}>")
    return Markup(f"<{name}{attr}>{esc(content)}</{name}>")


def join(parts: Iterable[object]) -> Markup:
    """Concatenate, escaping anything that is not :class:`Markup`."""
    return Markup("".join(esc(p) for p in parts))


def table(headers: Sequence[object], rows: Iterable[Sequence[object]], *, cls: str = "",
          caption: str = "") -> Markup:
    """A table; cells are escaped unless :class:`Markup`. Numbers are right-aligned by CSS."""
    head = join(tag("th", h, scope="col") for h in headers)
    body = join(tag("tr", join(tag("td", c) for c in r)) for r in rows)
    cap = tag("caption", caption) if caption else Markup("")
    return tag("div", tag("table", join([cap, tag("thead", tag("tr", head)), tag("tbody", body)]),
                          class_=cls or None), class_="table-wrap")


def flag_list(flags: Sequence[Flag], *, empty: str) -> Markup:
    """The flags as a list, most important first; ``empty`` when there are none."""
    if not flags:
        return tag("p", empty, class_="no-flags")
    items = [tag("li", join([tag("span", LEVEL_TEXT[f.level], class_="level"), " ",
                             tag("strong", f.title),
                             *([" ", tag("span", f"Accuracy checked on: {f.checked_on}",
                                         class_="checked " + ("sim-only" if f.simulation_only else "real"))]
                               if f.checked_on else []),
                             tag("p", f.detail)]),
                 class_=f"flag flag-{f.level}", data_metric=f.metric)
             for f in flags]
    return tag("ul", join(items), class_="flags")


def definition_list(items: Iterable[tuple[object, object]]) -> Markup:
    """A compact key/value list for report headers."""
    return tag("dl", join(join([tag("dt", k), tag("dd", v)]) for k, v in items), class_="facts")


def report_title(kind: str, *, running: bool, gait: bool = True) -> str:
    """The one heading of a report of ``kind`` (``session`` or ``trends``): "Running ..." when it
    covers running, "Walking ..." when there is none in it (a walking-only session or runner),
    "... no gait found" when it holds no steps at all (``gait`` False).
    """
    if not gait:
        return f"{kind.capitalize()} report: no gait found"
    return f"{'Running' if running else 'Walking'} {kind} report"


def section(title: str, *content: object, sid: str, screen_only: bool = False) -> Markup:
    """A titled report section; ``screen_only``: left out of the printed (PDF) report."""
    return tag("section", join([tag("h2", title), *content]), id=sid,
               class_="screen-only" if screen_only else None)


CSS = """
:root { --ink:#1d1d1d; --muted:#5b5b5b; --line:#d6d6d6; --left:#1f6fb2; --right:#d9651b;
        --notable:#b3261e; --watch:#b86e00; --info:#2b5d8a; --quality:#6b6b6b; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1180px; padding: 20px 28px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.25em; margin: 28px 0 8px;
  border-bottom: 2px solid var(--ink); padding-bottom: 2px; } h4 { margin: 0 0 2px; font-size: .95em; }
.sub { color: var(--muted); margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 14px; margin: 8px 0; }
.facts dt { color: var(--muted); } .facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: .92em; }
caption { text-align: left; color: var(--muted); padding: 2px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
table.jobs td, table.jobs th { text-align: left; }
ul.made { margin: 0; padding-left: 1.1em; } .made-note { margin: 2px 0 0; }
thead th { border-bottom: 2px solid var(--ink); }
td .tag { font-size: .85em; padding: 0 5px; border-radius: 3px; white-space: nowrap; }
.tag-notable { background: #f7d4d1; } .tag-watch { background: #fbe5c4; }
.tag-normal, .tag-within { background: #dcefe2; } .tag-out { background: #e6e6e6; }
.flags { list-style: none; padding: 0; margin: 6px 0; }
.flag { border-left: 5px solid var(--info); padding: 6px 10px; margin: 6px 0; background: #f6f8fa; }
.flag p { margin: 2px 0 0; color: #333; }
.flag .level { text-transform: uppercase; font-size: .75em; letter-spacing: .05em; font-weight: 700; }
.flag-notable { border-color: var(--notable); } .flag-notable .level { color: var(--notable); }
.flag-watch { border-color: var(--watch); } .flag-watch .level { color: var(--watch); }
.flag-info .level { color: var(--info); }
.flag .checked { font-size: .8em; color: #555; margin-left: .3em; }
.flag .checked.sim-only { font-style: italic; }
.flag-quality { border-color: var(--quality); background: #f3f3f3; } .flag-quality .level { color: var(--quality); }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px 22px; }
figure.plot { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure.plot svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85em; }
.chart .plot-bg { fill: #fff; stroke: none; } .chart .grid { stroke: #ececec; }
.chart .axis { stroke: #777; } .chart text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #333; }
.chart .label { font-size: 11.5px; fill: #444; } .chart .nodata { fill: var(--muted); font-style: italic; }
.note, .methods { color: var(--muted); font-size: .9em; }
footer { margin-top: 30px; padding: 12px 14px; border: 2px solid var(--ink); font-size: .95em; }
footer .meta { color: var(--muted); font-size: .85em; margin-top: 6px; }
.table-wrap { overflow-x: auto; }
input, select, textarea, button { max-width: 100%; font: inherit; } .facts dd { min-width: 0; overflow-wrap: anywhere; }
.pain-banner { border: 2px solid var(--notable); background: #fdf0ef; padding: 8px 12px; margin: 8px 0; }
@media (max-width: 640px) {
  body { padding: 10px 12px; font-size: 14px; }
  .facts { grid-template-columns: max-content 1fr; } form .facts { grid-template-columns: 1fr; }
  .plots { grid-template-columns: 1fr; }
  th, td { padding: 3px 4px; }
}
@page { size: A4; margin: 10mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 7.6pt; line-height: 1.2; }
  h1 { font-size: 14pt; } h2 { font-size: 10.5pt; margin: 8px 0 3px; }
  .screen-only { display: none; } .table-wrap { overflow: visible; }
  .plots { grid-template-columns: repeat(4, 1fr); gap: 4px 8px; }
  .plots.row5 { grid-template-columns: repeat(5, 1fr); }
  .chart text { font-size: 14px; } .chart text.legend { font-size: 12px; } figcaption { display: none; }
  table.weekly td:first-child { white-space: nowrap; }
  table { margin: 2px 0 4px; font-size: 7.5pt; } th, td { padding: 1px 4px; }
  .flag { padding: 2px 6px; margin: 2px 0; } .flag p { margin: 0; }
  .facts { margin: 2px 0; }
  tr, .flag, figure.plot, .facts { break-inside: avoid-page; }
  h2 { break-after: avoid; }
  footer { margin-top: 8px; padding: 4px 8px; font-size: 7.5pt; }
  .flag, .tag { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def page(*, title: str, body: Markup, generated: str, csp: str = CSP) -> str:
    """The full HTML document: head with CSP and CSS, ``body``, the footer."""
    footer = tag("footer", join([tag("p", FOOTER, class_="disclaimer"),
                                 tag("p", f"Made by imuback on {generated}.",
                                     class_="meta")]))
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}{footer}</body></html>\n")


def write_page(out: Path, html: str) -> Path:
    """Write ``html`` to ``out`` atomically; return ``out``.

    The text goes to a temporary file in the same folder, is flushed to disk and then
    ``os.replace``-d over ``out``: a reader (or a crash) sees the old report or the new one, never
    half of one. The temporary file is removed if anything fails.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)  # mkstemp makes the file 0600: give it the usual 0666 & ~umask
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
