"""The main navigation: one entry per page family, shown to the roles it serves.

Add a page to the menu by appending a :class:`NavItem`. An entry whose URL name does
not resolve yet is left out, so the menu never links to a page that does not exist.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from registry_ui import access


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    # URL names (without the namespace) under which this entry is the current one.
    section: tuple[str, ...] = ()


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


ITEMS: list[NavItem] = [
    NavItem("Home", "registry_ui:home", access.READERS, ("home",)),
    NavItem(
        "Experiments",
        "registry_ui:experiment_list",
        access.READERS,
        ("experiment_list", "run_list", "run_detail", "run_compare"),
    ),
    NavItem(
        "Models",
        "registry_ui:model_inventory",
        access.READERS,
        (
            "model_inventory",
            "model_version_detail",
            "version_timeline",
            "model_timeline",
        ),
    ),
    NavItem(
        "Reports",
        "registry_ui:report_index",
        access.READERS,
        (
            "report_index",
            "report_dataset_models",
            "report_production_data",
            "report_production_on_date",
        ),
    ),
    NavItem(
        "My requests",
        "registry_ui:my_requests",
        frozenset({access.DATA_SCIENTIST}),
        ("my_requests", "request_transition"),
    ),
    NavItem(
        "Decisions",
        "registry_ui:decision_inbox",
        frozenset({access.GOVERNANCE_OFFICER}),
        ("decision_inbox", "request_detail"),
    ),
    NavItem(
        "Selection records",
        "registry_ui:selection_list",
        frozenset({access.EXECUTIVE, access.GOVERNANCE_OFFICER}),
        ("selection_list", "selection_record"),
    ),
    NavItem(
        "Audit copy",
        "registry_ui:audit_export",
        frozenset({access.GOVERNANCE_OFFICER, access.EXECUTIVE, access.ADMIN}),
        ("audit_export",),
    ),
    NavItem(
        "Access",
        "registry_ui:access_roles",
        frozenset({access.ADMIN}),
        ("access_roles", "change_role"),
    ),
]


def links_for(roles: frozenset[str], current_url_name: str) -> list[NavLink]:
    """Return the menu links a holder of ``roles`` sees, marking the current section."""
    links = []
    for item in ITEMS:
        if roles.isdisjoint(item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        links.append(NavLink(item.label, url, current_url_name in item.section))
    return links
