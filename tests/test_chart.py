"""The report's charts, written directly as SVG: well-formed, the marks where the data puts them, hover tips."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from hypothesis import assume, given
from hypothesis import strategies as st

from sim.results.chart import Axes, figure, ticks, viridis
from sim.results.heatmap import heatmap

SVG = "{http://www.w3.org/2000/svg}"


@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6))
def test_ticks_are_round_values_inside_the_range(low: float, span: float) -> None:
    assume(span >= abs(low) * 1e-6)  # a narrower range than that, floats cannot tell apart at the ends
    high = low + span
    found = ticks(low, high)
    assert 1 <= len(found) <= 7
    assert all(low - 1e-6 * span <= t <= high + 1e-6 * span for t in found)
    if len(found) > 1:
        step = found[1] - found[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        # the difference of two large neighbours carries their rounding: 1e-4 of the step, still only 1, 2, 2.5 or 5
        assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < 1e-4, step
        assert all(math.isclose(b - a, step, rel_tol=1e-4) for a, b in zip(found, found[1:], strict=False))
        assert found[0] - step < low and found[-1] + step > high  # none left out at either end


def test_viridis_runs_from_purple_to_yellow() -> None:
    assert (viridis(0), viridis(0.5), viridis(1)) == ("#440154", "#21918c", "#fde725")
    assert viridis(-3) == viridis(0) and viridis(7) == viridis(1)
    assert viridis(0.25) not in (viridis(0.2), viridis(0.3))  # between anchors, interpolated


def _polyline_points(svg: str, gid: str) -> list[tuple[float, float]]:
    root = ET.fromstring(svg)
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == gid)
    line = group.find(f"{SVG}polyline")
    assert line is not None
    return [(float(x), float(y)) for x, y in (p.split(",") for p in (line.get("points") or "").split())]


def test_a_line_goes_where_its_data_says_and_carries_its_tip() -> None:
    axes = Axes(ylabel="y")
    axes.line([0, 5, 10], [0, 10, 5], tip="the line")
    svg = figure("f", [axes], xlabel="x", width=640, height=360)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("aria-label") == "f"
    [(x0, y0), (x1, y1), (x2, y2)] = _polyline_points(svg, "f-tip-0")
    assert x0 < x1 < x2 and math.isclose(x1 - x0, x2 - x1, abs_tol=0.2)  # evenly spaced x
    assert y1 < y2 < y0  # SVG's y grows downwards: 10 highest, 0 lowest
    assert "<title>the line</title>" in svg


def test_equal_values_in_a_row_are_drawn_with_fewer_points_and_the_same_shape() -> None:
    axes = Axes()
    axes.line(list(range(100)), [0.0] * 50 + [3.0] * 50, tip="t")
    points = _polyline_points(figure("f", [axes], xlabel="x"), "f-tip-0")
    assert len(points) == 4  # the ends of each flat run
    assert points[1][1] == points[0][1] and points[2][1] == points[3][1] < points[0][1]


def test_a_step_line_holds_each_value_until_the_next_x() -> None:
    axes = Axes()
    axes.line([0, 1, 2], [1, 2, 2], step=True, tip="t")
    points = _polyline_points(figure("f", [axes], xlabel="x"), "f-tip-0")
    assert [p[1] for p in points][:2] == [points[0][1]] * 2 and points[1][0] == points[2][0]


def test_bars_spans_and_marks_each_carry_their_own_tip_and_legend() -> None:
    axes = Axes()
    axes.span(2, 4, colour="#9467bd", label="outage", tip="outage 2-4")
    axes.bars([0, 1, 2], [1, 2, 3], 1, tips=["first", "second", "third"], label="sent")
    axes.vline(3, colour="#000000", tip="restart")
    svg = figure("f", [axes], xlabel="x")
    for tip in ("outage 2-4", "first", "second", "third", "restart"):
        assert svg.count(f"<title>{tip}</title>") == 1
    assert ">outage</text>" in svg and ">sent</text>" in svg
    span = next(r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("fill") == "#9467bd")
    assert span.get("fill-opacity") == "0.15"


def test_a_long_legend_goes_beneath_and_the_plot_keeps_its_width() -> None:
    short, long = Axes(), Axes()
    short.line([0, 1], [0, 1], label="a")
    long.line([0, 1], [0, 1], label="a legend label far longer than a third of the figure's width")
    frames = [[r for r in ET.fromstring(figure("f", [a], xlabel="x")).iter(f"{SVG}rect")
               if r.get("stroke") == "#000000"][0] for a in (short, long)]
    widths = [float(f.get("width") or 0) for f in frames]
    assert widths[1] > widths[0]  # beside, the short legend takes room; beneath, the long one takes none


def test_a_heat_map_colours_each_cell_by_its_value_and_marks_values_past_the_scale() -> None:
    cells = {(0, 1): (1.0, "3", "a → b"), (1, 0): (4.0, "5", "b → a")}
    svg = heatmap("z", ["a", "b"], cells, title="t", xlabel="dst", ylabel="src", scale_label="s", top=2.0)
    root = ET.fromstring(svg)
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    low = groups["z-tip-0-1"].find(f"{SVG}rect")
    high = groups["z-tip-1-0"].find(f"{SVG}rect")
    assert low is not None and high is not None
    assert (low.get("fill"), high.get("fill")) == (viridis(0.5), viridis(1.0))
    assert "<title>b → a</title>" in svg and root.find(f"{SVG}polygon") is not None  # the colour bar's point
    within = heatmap("z", ["a", "b"], cells, title="t", xlabel="dst", ylabel="src", scale_label="s", top=None)
    assert ET.fromstring(within).find(f"{SVG}polygon") is None


def test_the_same_figure_gives_the_same_text() -> None:
    def draw() -> str:
        axes = Axes()
        axes.line([0.1, 0.7, 2.3], [1 / 3, 2 / 3, 1.0], label="x", tip="y")
        return figure("f", [axes], xlabel="x")

    assert draw() == draw()
