"""The template filters that keep untrusted MLflow strings harmless."""

import pytest

from registry_ui.templatetags.registry_ui import metric, safe_url


@pytest.mark.parametrize(
    "url",
    ["https://github.com/acme/models", "http://mlflow.internal:5000/#/runs/1"],
)
def test_safe_url_keeps_http_links(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative/path",
        "https:///no-host",
        "",
        None,
        42,
    ],
)
def test_safe_url_drops_every_other_scheme(url: object) -> None:
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (0.5, "0.5")],
)
def test_metric_names_non_finite_values(value: float, text: str) -> None:
    assert metric(value) == text
