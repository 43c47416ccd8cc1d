"""Links to pages that may not be routed, and fast links by primary key."""

from registry_ui.links import optional_url, pk_url_maker


def test_optional_url_is_empty_for_an_unrouted_page() -> None:
    assert optional_url("registry_ui:no_such_page", 1) == ""
    assert optional_url("registry_ui:run_detail", 5) == "/runs/5/"


def test_pk_url_maker_matches_reverse() -> None:
    make = pk_url_maker("registry_ui:model_version_detail")

    assert make(7) == optional_url("registry_ui:model_version_detail", 7)
    assert make(987654321) == "/models/versions/987654321/"
