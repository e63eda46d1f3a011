"""Figures as inline SVG for the HTML report."""

from __future__ import annotations

import html
import io
import re
from typing import Any


def svg(figure: Any, name: str, tips: dict[str, str]) -> str:
    """The figure as inline SVG (crisp at any zoom, text drawn as paths: no fonts to fetch), its ids
    prefixed with `name` (several share one page), and `tips` — artist gid → text — as the <title>
    a browser shows on hover."""
    from matplotlib import rc_context  # noqa: PLC0415 - loaded on first use: slow to import

    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": "pilotsim"}):  # fixed ids and no date: the same run, the same file
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue().decode()
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg[svg.index("<svg"):], flags=re.S)
    for gid, text in tips.items():
        svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}"><title>{html.escape(text)}</title>', 1)
    svg = svg.replace('id="', f'id="{name}-').replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    return svg.replace("<svg ", f'<svg role="img" aria-label="{name}" ', 1)
