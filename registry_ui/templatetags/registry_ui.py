"""Template helpers of the reviewer pages: safe links, values, the menu and charts."""

from typing import Any
from urllib.parse import urlsplit

from django import template
from django.http import HttpRequest

from registry_ui import access, navigation
from registry_ui.formatting import metric_text

register = template.Library()

ALLOWED_URL_SCHEMES = frozenset({"http", "https"})


@register.filter
def safe_url(value: object) -> str:
    """Return ``value`` if it is an absolute http(s) URL, else an empty string."""
    if not isinstance(value, str):
        return ""
    # Browsers drop control characters and spaces inside a scheme ("java\tscript:"),
    # so a URL holding any of them is refused rather than normalised.
    if not value or any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ALLOWED_URL_SCHEMES or not parts.netloc:
        return ""
    return value


@register.filter
def metric(value: Any) -> str:
    """Spell a metric row or a bare float, showing NaN and the infinities by name."""
    if hasattr(value, "is_nan"):
        return metric_text(value.value, value.is_nan)
    if isinstance(value, float | int):
        return metric_text(float(value))
    return "" if value is None else str(value)


@register.filter
def metric_precise(value: Any) -> str:
    """Like ``metric`` but with every digit of the stored float."""
    if hasattr(value, "is_nan"):
        return metric_text(value.value, value.is_nan, precise=True)
    if isinstance(value, float | int):
        return metric_text(float(value), precise=True)
    return "" if value is None else str(value)


@register.inclusion_tag("registry_ui/includes/main_nav.html", takes_context=True)
def main_nav(context: template.Context) -> dict[str, Any]:
    """Render the menu entries the signed-in user's roles allow."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return {"links": []}
    match = request.resolver_match
    current = match.url_name if match and match.url_name else ""
    return {"links": navigation.links_for(access.user_roles(request.user), current)}


@register.inclusion_tag("registry_ui/includes/chart.html")
def chart(figure: dict[str, Any] | None, element_id: str, label: str) -> dict[str, Any]:
    """Place a Plotly figure: its data as a JSON block and a container charts.js fills.

    ``label`` describes the chart for screen readers. Pages that use charts also
    include ``registry_ui/includes/chart_scripts.html`` in their ``scripts`` block.
    """
    return {"figure": figure, "element_id": element_id, "label": label}
