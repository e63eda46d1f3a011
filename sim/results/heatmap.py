"""A heat map written directly as SVG: a square grid of zones, each cell coloured by viridis, with a colour bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .chart import FRAME, coord, rect, svg_root, text, tick_label, ticks, tipped, viridis


def heatmap(name: str, labels: Sequence[str], cells: Mapping[tuple[int, int], tuple[float | None, str, str]], *,
            title: str, xlabel: str, ylabel: str, scale_label: str, top: float | None) -> str:
    """A square grid of `labels` × `labels` (rows: sources, columns: destinations); each cell given is
    (value or None, the text written in it, its tip), coloured by viridis from 0 to `top` (a triangle on
    the colour bar when values go beyond it)."""
    n = len(labels)
    longest = max((len(label) for label in labels), default=0) * 5.0
    side = 420.0
    left, up = 30 + longest, 40.0
    cell = side / max(n, 1)
    width, height = left + side + 110, up + side + longest * 0.87 + 44
    values = [v for v, _, _ in cells.values() if v is not None]
    high = top if top else (max(values) if values else 1.0)
    out = [text(left + side / 2, 20, title, size=12)]
    for i, label in enumerate(labels):
        middle = up + cell * (i + 0.5)
        out.append(text(left - 6, middle + 3, label, size=9, anchor="end"))
        x = left + cell * (i + 0.5)
        out.append(text(x, up + side + 8, label, size=9, anchor="end", rotate=-60))
    for (row, column), (value, written, tip) in sorted(cells.items()):
        x, y = left + column * cell, up + row * cell
        fill = viridis(value / high) if value is not None and high > 0 else "#ffffff"
        body = rect(x, y, cell, cell, f'fill="{fill}"')
        if written and n <= 16:
            w = len(written) * 5.5 + 4
            body += (rect(x + cell / 2 - w / 2, y + cell / 2 - 6, w, 12, 'rx="3" fill="#ffffff" fill-opacity="0.7"')
                     + text(x + cell / 2, y + cell / 2 + 3.5, written, size=8 if n <= 8 else 7))
        out.append(tipped(f"{name}-tip-{row}-{column}", tip, body))
    out.append(rect(left, up, side, side, FRAME))
    out.append(text(left + side / 2, height - 6, xlabel))
    out.append(text(left - longest - 14, up + side / 2, ylabel, rotate=-90))
    out += _colour_bar(left + side + 20, up + side * 0.1, side * 0.8, high, scale_label,
                       beyond=bool(values) and top is not None and top < max(values))
    return svg_root(name, width, height, out)


def _colour_bar(left: float, top: float, height: float, high: float, label: str, beyond: bool) -> list[str]:
    steps = 32
    out = [rect(left, top + height * i / steps, 14, height / steps + 0.5, f'fill="{viridis(1 - i / steps)}"')
           for i in range(steps)]
    if beyond:  # values past the top of the scale: the bar ends in a point, as matplotlib's extend="max"
        point = f"{coord(left)},{coord(top)} {coord(left + 14)},{coord(top)} {coord(left + 7)},{coord(top - 12)}"
        out.append(f'<polygon points="{point}" fill="{viridis(1)}"/>')
    for value in ticks(0, high, 6):
        y = top + height - value / high * height if high > 0 else top + height
        out.append(f'<path d="M{coord(left + 14)} {coord(y)}h4" stroke="#000000"/>')
        out.append(text(left + 21, y + 3.5, tick_label(value), size=9, anchor="start"))
    out.append(text(left + 62, top + height / 2, label, size=10, rotate=-90))
    return out
