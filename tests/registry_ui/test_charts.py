"""Figure builders: labels Plotly cannot read as markup, and JSON-safe numbers."""

import json

from registry_ui import charts

HOSTILE = '<a href="javascript:alert(1)">x</a> & <b>'


def test_plain_text_escapes_markup_plotly_would_render() -> None:
    assert charts.plain_text(HOSTILE) == (
        '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    )


def test_plain_text_shortens_long_labels() -> None:
    assert charts.plain_text("x" * 100, limit=10) == "x" * 9 + "…"


def test_history_lines_escape_names_and_turn_non_finite_values_into_gaps() -> None:
    figure = charts.metric_history_figure(
        HOSTILE, [charts.Series(HOSTILE, [(0, 1.0), (1, float("nan")), (2, float("inf"))])]
    )

    assert figure is not None
    line = figure["data"][0]
    assert line["name"].startswith("&lt;a href=")
    assert line["y"] == [1.0, None, None]
    assert figure["layout"]["title"]["text"].startswith("&lt;a href=")
    json.dumps(figure, allow_nan=False)


def test_history_without_points_draws_nothing() -> None:
    assert charts.metric_history_figure("t", [charts.Series("a", [])]) is None


def test_parallel_coordinates_escape_axis_titles_but_not_plain_tick_text() -> None:
    figure = charts.parallel_coordinates_figure(
        "runs",
        [
            charts.Dimension(HOSTILE, ["adam", HOSTILE, None]),
            charts.Dimension("accuracy", [0.5, float("nan"), 0.9]),
        ],
        {"accuracy": [0.5, None, 0.9]},
    )

    assert figure is not None
    first, second = figure["data"][0]["dimensions"]
    assert first["label"].startswith("&lt;a href=")
    assert first["ticktext"] == ['<a href="javascript:alert(1)"…', "adam"]
    assert first["values"] == [1, 0, None]
    assert second["values"] == [0.5, None, 0.9]
    json.dumps(figure, allow_nan=False)


def test_parallel_coordinates_need_two_axes() -> None:
    assert charts.parallel_coordinates_figure("t", [charts.Dimension("a", [1.0])], {}) is None
