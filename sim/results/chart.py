"""Charts written directly as SVG: lines, steps, bars, shaded windows and a stacked area (the heat map: heatmap.py).

Why not matplotlib: importing it took 0.6 s and drawing a run's plots 0.8–1.1 s, most of the time a short
run takes; what the report draws is a few kinds of mark on linear axes, which this writes in milliseconds.
The colours are matplotlib's (tab10 and viridis), so the figures read as before.

Each mark with a tip sits in `<g id="NAME-tip-…"><title>tip</title>…</g>`: a browser shows the tip on
hover. The same figure gives the same text (coordinates rounded to a tenth of a pixel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# matplotlib's viridis at 0, 0.1, …, 1: interpolated between
_VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
            "#bddf26", "#fde725"]
DASHES = {"solid": None, "dashed": "6 3", "dotted": "1.5 3", "dashdot": "6 2 1.5 2", "short": "2 2"}
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
GRID = 'stroke="#b0b0b0" stroke-opacity="0.3"'
FRAME = 'fill="none" stroke="#000000" stroke-width="0.8"'
CHAR_PX = 6.2  # the width of a character at 11 px, near enough to lay out legends and labels


def colour(index: int) -> str:
    """The `index`th of matplotlib's tab10 colours (C0, C1, …)."""
    return TAB10[index % len(TAB10)]


def viridis(fraction: float) -> str:
    """viridis at `fraction` (0–1, clamped) as #rrggbb."""
    at = min(max(fraction, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    low = min(int(at), len(_VIRIDIS) - 2)
    a, b, share = _VIRIDIS[low], _VIRIDIS[low + 1], at - low
    mixed = (round(int(a[i:i + 2], 16) * (1 - share) + int(b[i:i + 2], 16) * share) for i in (1, 3, 5))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) from `low` to `high`, at most `most` of them."""
    if high <= low:
        return [low]
    raw = (high - low) / max(1, most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    return [round(i * step, 10) for i in range(first, math.floor(high / step + 1e-9) + 1)]


def tick_label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.3g}"


def coord(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def text(x: float, y: float, content: str, *, size: float = 11, anchor: str = "middle", rotate: float = 0,
         weight: str = "normal") -> str:
    turn = f' transform="rotate({coord(rotate)} {coord(x)} {coord(y)})"' if rotate else ""
    bold = ' font-weight="bold"' if weight != "normal" else ""
    return (f'<text x="{coord(x)}" y="{coord(y)}" font-size="{coord(size)}" text-anchor="{anchor}"{bold}{turn}>'
            f"{escape(content)}</text>")


def rect(x: float, y: float, width: float, height: float, style: str) -> str:
    """An SVG <rect>, its other attributes in `style`."""
    return f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(width)}" height="{coord(height)}" {style}/>'


def tipped(gid: str, tip: str | None, body: str) -> str:
    """`body` as a hover target saying `tip` (no group without a tip)."""
    return f'<g id="{gid}"><title>{escape(tip)}</title>{body}</g>' if tip is not None else body


@dataclass(frozen=True)
class _Mark:
    kind: str  # line, bars, span, vline, hline, area
    xs: Sequence[float]
    ys: Sequence[float] = ()
    colour: str = TAB10[0]
    width: float = 1.5
    dash: str | None = None
    opacity: float = 1.0
    label: str | None = None
    tips: Sequence[str | None] = ()
    extra: float = 0.0  # bars: their width; vline: the share of the height it spans; area: the base


@dataclass
class Axes:
    """One panel: marks on linear axes (y from 0 up unless a value is negative)."""

    ylabel: str = ""
    title: str = ""
    share: float = 1.0  # its part of the figure's height, beside other panels
    y_top: float | None = None  # the y axis ends here instead of at the highest value
    marks: list[_Mark] = field(default_factory=list)
    note: str | None = None  # said in the middle of an empty panel

    def line(self, xs: Sequence[float], ys: Sequence[float], *, colour: str = TAB10[0], width: float = 1.5,
             dash: str = "solid", label: str | None = None, tip: str | None = None, step: bool = False) -> None:
        """A line through the points; `step`: each value held until the next x (the last one's x ends it)."""
        if step and len(xs) > 1:
            xs = [x for pair in zip(xs[:-1], xs[1:], strict=True) for x in pair]
            ys = [y for y in ys[:-1] for _ in (0, 1)]
        self.marks.append(_Mark("line", *_thinned(xs, ys), colour=colour, width=width, dash=DASHES[dash],
                                label=label, tips=[tip]))

    def bars(self, xs: Sequence[float], heights: Sequence[float], width: float, *, colour: str = TAB10[0],
             opacity: float = 1.0, label: str | None = None, tips: Sequence[str | None] = ()) -> None:
        """Bars starting at each x, `width` wide."""
        self.marks.append(_Mark("bars", xs, heights, colour=colour, opacity=opacity, label=label, tips=tips,
                                extra=width))

    def span(self, start: float, end: float, *, colour: str, opacity: float = 0.15, label: str | None = None,
             tip: str | None = None) -> None:
        """A window shaded from `start` to `end` the whole height."""
        self.marks.append(_Mark("span", (start, end), colour=colour, opacity=opacity, label=label, tips=[tip]))

    def vline(self, x: float, *, colour: str, dash: str = "dashed", width: float = 1.2, label: str | None = None,
              tip: str | None = None, height: float = 1.0) -> None:
        """A vertical line at `x`, over the bottom `height` share of the panel."""
        self.marks.append(_Mark("vline", (x,), colour=colour, dash=DASHES[dash], width=width, label=label,
                                tips=[tip], extra=height))

    def hline(self, y: float, *, colour: str = "#000000", dash: str = "dashed", width: float = 1.0,
              label: str | None = None) -> None:
        self.marks.append(_Mark("hline", (), (y,), colour=colour, dash=DASHES[dash], width=width, label=label))

    def stack(self, xs: Sequence[float], rows: Sequence[Sequence[float]], labels: Sequence[str],
              tips: Sequence[str | None]) -> None:
        """Areas stacked one on another, each row in the next colour."""
        base = [0.0] * len(xs)
        for i, (row, label, tip) in enumerate(zip(rows, labels, tips, strict=True)):
            top = [b + v for b, v in zip(base, row, strict=True)]
            self.marks.append(_Mark("area", xs, [*top, *reversed(base)], colour=colour(i), opacity=0.8, label=label,
                                    tips=[tip]))
            base = top

    def x_extent(self) -> list[float]:
        xs = [x for m in self.marks for x in m.xs]
        return xs + [x + m.extra for m in self.marks if m.kind == "bars" for x in m.xs[-1:]]

    def y_range(self) -> tuple[float, float]:
        values = [y for m in self.marks for y in m.ys]
        low, high = min([0.0, *values]), max([0.0, *values])
        if self.y_top is not None:
            return low, self.y_top
        return (low, 1.0) if high <= low else (low, high + (high - low) * 0.05)

    def legend(self) -> list[_Mark]:
        return [m for m in self.marks if m.label is not None]


def _thinned(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """The points without those in the middle of a run of equal values: the same line, fewer points."""
    keep = [i for i in range(len(ys)) if i in (0, len(ys) - 1) or not (ys[i - 1] == ys[i] == ys[i + 1])]
    return [xs[i] for i in keep], [ys[i] for i in keep]


@dataclass(frozen=True)
class _Box:
    left: float
    top: float
    width: float
    height: float

    def x(self, value: float, low: float, high: float) -> float:
        return self.left + (value - low) / (high - low) * self.width

    def y(self, value: float, low: float, high: float) -> float:
        return self.top + self.height - (value - low) / (high - low) * self.height


def figure(name: str, panels: Sequence[Axes], *, xlabel: str, width: float = 640, height: float = 360,
           title: str = "", x_range: tuple[float, float] | None = None) -> str:
    """The panels one above another on one x axis, as an <svg> element; the legend to the right of them,
    or beneath when its labels are long (the plot keeps its width)."""
    entries = [m for p in panels for m in p.legend()]
    sizes = [len(m.label or "") * CHAR_PX + 40 for m in entries]
    beside = not entries or max(sizes) <= width * 0.3
    rows = _rows(sizes, width - 80) if not beside else []
    title_lines = title.split("\n") if title else []
    top = 12 + 16 * len(title_lines)
    plot = _Box(72, top, width - 72 - (max(sizes) if beside and entries else 12), height - top - 46)
    height += 17 * len(rows) + (6 if rows else 0)
    xs = [x for p in panels for x in p.x_extent()]
    low, high = x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    out = [text(plot.left + plot.width / 2, 14 + 16 * i, line, size=12) for i, line in enumerate(title_lines)]
    gap, shares = 10, sum(p.share for p in panels)
    y = plot.top
    for i, panel in enumerate(panels):
        h = (plot.height - gap * (len(panels) - 1)) * panel.share / shares
        box = _Box(plot.left, y, plot.width, h)
        out += _panel(f"{name}-{i}" if i else name, panel, box, (low, high), last=i == len(panels) - 1)
        y += h + gap
    below = plot.top + plot.height + 40
    out.append(text(plot.left + plot.width / 2, below, xlabel))
    if beside:
        out += _legend(entries, [(plot.left + plot.width + 14, plot.top + 8 + 17 * i) for i in range(len(entries))])
    else:
        places = [(plot.left - 40 + sum(sizes[j] for j in row[:row.index(i)]), below + 20 + 17 * r)
                  for r, row in enumerate(rows) for i in row]
        out += _legend(entries, places)
    return svg_root(name, width, height, out)


def _rows(sizes: list[float], room: float) -> list[list[int]]:
    """Legend entries (by index) in rows no wider than `room`."""
    rows: list[list[int]] = [[]]
    for i, size in enumerate(sizes):
        if rows[-1] and sum(sizes[j] for j in rows[-1]) + size > room:
            rows.append([])
        rows[-1].append(i)
    return rows


def svg_root(name: str, width: float, height: float, body: list[str]) -> str:
    return (f'<svg role="img" aria-label="{escape(name)}" xmlns="http://www.w3.org/2000/svg" '
            f'width="{coord(width)}" height="{coord(height)}" viewBox="0 0 {coord(width)} {coord(height)}" {FONT}>'
            f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(body) + "</svg>")


def _panel(name: str, panel: Axes, box: _Box, x_range: tuple[float, float], last: bool) -> list[str]:
    x_low, x_high = x_range
    y_low, y_high = panel.y_range()
    out = []
    for value in ticks(y_low, y_high, 6 if box.height > 150 else 3):
        y = box.y(value, y_low, y_high)
        out.append(f'<path d="M{coord(box.left)} {coord(y)}h{coord(box.width)}" {GRID}/>')
        out.append(text(box.left - 6, y + 4, tick_label(value), size=10, anchor="end"))
    for value in ticks(x_low, x_high):
        x = box.x(value, x_low, x_high)
        out.append(f'<path d="M{coord(x)} {coord(box.top)}v{coord(box.height)}" {GRID}/>')
        if last:
            out.append(text(x, box.top + box.height + 14, tick_label(value), size=10))
    for i, line in enumerate(reversed(panel.ylabel.split("\n"))):
        out.append(text(box.left - 44 - 13 * i, box.top + box.height / 2, line, rotate=-90))
    if panel.title:
        out.append(text(box.left + box.width / 2, box.top - 6, panel.title, size=12))
    frame = (box.left, box.top, box.width, box.height)
    out.append(f'<clipPath id="{name}-clip">{rect(*frame, "")}</clipPath><g clip-path="url(#{name}-clip)">')
    for i, mark in enumerate(panel.marks):
        out.append(_draw(f"{name}-tip-{i}", mark, box, x_range, (y_low, y_high)))
    out.append("</g>")
    if panel.note:
        out.append(text(box.left + box.width / 2, box.top + box.height / 2, panel.note, size=12))
    out.append(rect(*frame, FRAME))
    return out


def _stroke(mark: _Mark) -> str:
    dash = f' stroke-dasharray="{mark.dash}"' if mark.dash else ""
    return f'fill="none" stroke="{mark.colour}" stroke-width="{coord(mark.width)}"{dash}'


def _draw(gid: str, mark: _Mark, box: _Box, x_range: tuple[float, float], y_range: tuple[float, float]) -> str:
    def px(x: float, y: float) -> str:
        return f"{coord(box.x(x, *x_range))},{coord(box.y(y, *y_range))}"

    tip = mark.tips[0] if mark.tips else None
    match mark.kind:
        case "line":
            points = " ".join(px(x, y) for x, y in zip(mark.xs, mark.ys, strict=True))
            return tipped(gid, tip, f'<polyline points="{points}" {_stroke(mark)} stroke-linejoin="round"/>')
        case "area":
            points = " ".join(px(x, y) for x, y in zip([*mark.xs, *reversed(mark.xs)], mark.ys, strict=True))
            return tipped(gid, tip, f'<polygon points="{points}" fill="{mark.colour}" fill-opacity="{mark.opacity}"/>')
        case "span":
            left, right = (box.x(x, *x_range) for x in mark.xs)
            return tipped(gid, tip, rect(left, box.top, right - left, box.height,
                                         f'fill="{mark.colour}" fill-opacity="{mark.opacity}"'))
        case "vline":
            x, reach = box.x(mark.xs[0], *x_range), box.height * mark.extra
            bottom = box.top + box.height
            return tipped(gid, tip, f'<path d="M{coord(x)} {coord(bottom)}v{coord(-reach)}" {_stroke(mark)}/>')
        case "hline":
            y = box.y(mark.ys[0], *y_range)
            return f'<path d="M{coord(box.left)} {coord(y)}h{coord(box.width)}" {_stroke(mark)}/>'
        case _:  # bars
            parts = []
            for i, (x, h) in enumerate(zip(mark.xs, mark.ys, strict=True)):
                left, right = box.x(x, *x_range), box.x(x + mark.extra, *x_range)
                top, bottom = sorted((box.y(h, *y_range), box.y(0, *y_range)))
                bar = rect(left, top, right - left, bottom - top, f'fill="{mark.colour}" fill-opacity="{mark.opacity}"')
                parts.append(tipped(f"{gid}-{i}", mark.tips[i] if i < len(mark.tips) else None, bar))
            return "".join(parts)


def _legend(entries: list[_Mark], places: list[tuple[float, float]]) -> list[str]:
    out = []
    for mark, (left, y) in zip(entries, places, strict=True):
        if mark.kind in ("line", "vline", "hline"):
            out.append(f'<path d="M{coord(left)} {coord(y)}h22" {_stroke(mark)}/>')
        else:
            out.append(rect(left, y - 5, 22, 10, f'fill="{mark.colour}" fill-opacity="{max(mark.opacity, 0.3)}"'))
        out.append(text(left + 28, y + 4, mark.label or "", size=10.5, anchor="start"))
    return out
