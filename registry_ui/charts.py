"""Plotly figures of the reviewer pages, built as plain dicts.

Each function returns a figure dict (``data``, ``layout``) that a page passes through
``json_script`` and ``static/registry_ui/charts.js`` draws. Strings from MLflow go
through :func:`plain_text` first: Plotly renders a few HTML tags (``<a href>``,
``<b>``, ``<br>``...) inside most labels, and escaping ``<``, ``>`` and ``&`` makes
it show them as the characters they are; the browser tests check each kind of label.
Non-finite numbers become ``None`` (a gap), since JSON has no NaN and Plotly cannot
place an infinity.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Figure = dict[str, Any]

FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13}
# A colour-blind-safe qualitative palette (Okabe and Ito) in a fixed order.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
MAX_LABEL = 80


def shorten(value: object, limit: int = MAX_LABEL) -> str:
    """Return ``value`` as text of at most ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text(value: object, limit: int = MAX_LABEL) -> str:
    """Return ``value`` as a label Plotly shows literally, shortened to ``limit``.

    For titles, legend entries, hover text and parallel-coordinates axis titles:
    Plotly parses those as its HTML subset and decodes entities back to characters.
    """
    text = shorten(value, limit)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def finite(value: float | None) -> float | None:
    """Return ``value`` when it is a finite number, else ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return value


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": plain_text(title, 120)},
        "font": FONT,
        "margin": {"l": 60, "r": 30, "t": 50, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


@dataclass(frozen=True)
class Series:
    """One line: a name and its (step, value) points."""

    name: str
    points: Sequence[tuple[int, float | None]]


def metric_history_figure(title: str, series: Iterable[Series]) -> Figure | None:
    """Lines of metric values against step, one per series; None when there is no point."""
    data = []
    for index, line in enumerate(series):
        if not line.points:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plain_text(line.name),
                "x": [step for step, _ in line.points],
                "y": [finite(value) for _, value in line.points],
                "line": {"color": PALETTE[index % len(PALETTE)], "width": 2},
                "marker": {"size": 4},
                "connectgaps": False,
            }
        )
    if not data:
        return None
    return {
        "data": data,
        "layout": _layout(
            title,
            xaxis={"title": {"text": "step"}, "zeroline": False, "gridcolor": "#e5e8eb"},
            yaxis={"title": {"text": "value"}, "zeroline": False, "gridcolor": "#e5e8eb"},
            legend={"orientation": "h", "y": -0.2},
        ),
    }


@dataclass(frozen=True)
class Dimension:
    """One axis of a parallel-coordinates chart with a value per run."""

    label: str
    values: Sequence[float | str | None]


def _missing(value: float | str | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _axis(dimension: Dimension) -> dict[str, Any] | None:
    present = [v for v in dimension.values if not _missing(v)]
    if not present:
        return None
    numbers = [v for v in present if isinstance(v, int | float) and math.isfinite(v)]
    if len(numbers) == len(present):
        return {
            "label": plain_text(dimension.label, 40),
            "values": [finite(v) if isinstance(v, int | float) else None for v in dimension.values],
        }
    # Text values (or numbers mixed with text) become categories spaced evenly.
    categories = sorted({str(v) for v in present})
    index = {category: position for position, category in enumerate(categories)}
    return {
        "label": plain_text(dimension.label, 40),
        "values": [None if _missing(v) else index[str(v)] for v in dimension.values],
        "tickvals": list(range(len(categories))),
        # Parallel-coordinates tick labels are set as plain SVG text (measured on
        # plotly.js 4.1): no markup is parsed, so escaping would show "&lt;".
        "ticktext": [shorten(c, 30) for c in categories],
        "range": [0, max(len(categories) - 1, 1)],
    }


def parallel_coordinates_figure(
    title: str, dimensions: Sequence[Dimension], colour_by: Mapping[str, Sequence[float | None]]
) -> Figure | None:
    """Parallel coordinates over params and metrics, lines coloured by one metric."""
    axes = [axis for axis in (_axis(d) for d in dimensions) if axis is not None]
    if len(axes) < 2:
        return None
    line: dict[str, Any] = {"color": PALETTE[0]}
    for name, values in colour_by.items():
        colours = [finite(v) for v in values]
        if any(c is not None for c in colours):
            low = min(c for c in colours if c is not None)
            line = {
                "color": [low if c is None else c for c in colours],
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": plain_text(name, 40)}},
            }
        break
    return {
        "data": [{"type": "parcoords", "dimensions": axes, "line": line}],
        "layout": _layout(title, margin={"l": 150, "r": 80, "t": 90, "b": 40}),
    }


@dataclass(frozen=True)
class BarGroup:
    """One set of bars: a name (a model version) and a value per category."""

    name: str
    values: Sequence[float | None]


def grouped_bar_figure(
    title: str, categories: Sequence[str], groups: Sequence[BarGroup]
) -> Figure | None:
    """Bars side by side per category, one colour per group; None when nothing is drawn."""
    if not categories:
        return None
    data = []
    for index, group in enumerate(groups):
        values = [finite(value) for value in group.values]
        if all(value is None for value in values):
            continue
        data.append(
            {
                "type": "bar",
                "name": plain_text(group.name),
                "x": [plain_text(category, 40) for category in categories],
                "y": values,
                "marker": {"color": PALETTE[index % len(PALETTE)]},
                "hovertemplate": "%{x}: %{y}<extra>%{fullData.name}</extra>",
            }
        )
    if not data:
        return None
    return {
        "data": data,
        "layout": _layout(
            title,
            barmode="group",
            xaxis={"type": "category", "automargin": True},
            yaxis={"title": {"text": "value"}, "zeroline": True, "gridcolor": "#e5e8eb"},
            legend={"orientation": "h", "y": -0.25},
        ),
    }
