"""Charts for evaluators' reports: altair specifications rendered to inline SVG, offline.

vl-convert renders Vega-Lite to SVG in-process (no browser, no network), so a report page
carries its charts as markup: nothing is fetched when it is opened. Withheld values are gaps,
never zeros, and every chart's caption says so.
"""
from __future__ import annotations

from typing import Any

import polars as pl

WIDTH, HEIGHT = 520, 220


def _svg(chart: Any) -> str:
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_json())
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def grouped_bars(df: pl.DataFrame, x: str, y: str, color: str, title: str, y_title: str) -> str:
    """Bars of ``y`` per ``x``, side by side per ``color`` (e.g. planned vs actual per partner)."""
    import altair as alt

    chart = alt.Chart(df.to_pandas(), title=title).mark_bar().encode(
        x=alt.X(f"{x}:N", title=None, axis=alt.Axis(labelAngle=0)), xOffset=f"{color}:N", y=alt.Y(f"{y}:Q", title=y_title),
        color=alt.Color(f"{color}:N", title=None), tooltip=[x, color, y]).properties(width=WIDTH, height=HEIGHT)
    return _svg(chart)


def stacked_bars(df: pl.DataFrame, x: str, y: str, color: str, title: str, y_title: str) -> str:
    import altair as alt

    chart = alt.Chart(df.to_pandas(), title=title).mark_bar().encode(
        x=alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0)), y=alt.Y(f"sum({y}):Q", title=y_title),
        color=alt.Color(f"{color}:N", title=None), tooltip=[x, color, y]).properties(width=WIDTH, height=HEIGHT)
    return _svg(chart)


def lines(df: pl.DataFrame, x: str, y: str, color: str, title: str, y_title: str, *, share: bool = False) -> str:
    """A line per ``color`` over ``x`` (ordinal: fiscal years or quarters); points mark each value."""
    import altair as alt

    axis = alt.Axis(format="%") if share else alt.Axis()
    chart = alt.Chart(df.to_pandas(), title=title).mark_line(point=True).encode(
        x=alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0)), y=alt.Y(f"{y}:Q", title=y_title, axis=axis),
        color=alt.Color(f"{color}:N", title=None), tooltip=[x, color, y]).properties(width=WIDTH, height=HEIGHT)
    return _svg(chart)
