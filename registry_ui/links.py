"""Links to pages that may not exist yet, so a page never renders a dead link."""

from django.urls import NoReverseMatch, reverse


def optional_url(name: str, *args: object) -> str:
    """Return the URL of ``name`` with ``args``, or "" when no such page is routed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
