"""Each role signs in through the login form and reads the main pages in Chromium."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Session, sign_in
from tests.browser.seed import main_pages, seed_pages
from tests.support import personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _read(session: Session, pages: list[tuple[str, str]], role: str) -> None:
    for name, path in pages:
        session.open(path)
        charts = session.wait_for_charts()
        if name in {"run-detail", "compare"}:
            assert charts >= 1, f"{name} drew no chart"
        session.screenshot(f"{role}-{name}")
    assert session.console_errors == []
    assert session.dialogs == []


def test_an_officer_reads_every_main_page(browser: Any, live_server: LiveServer) -> None:
    runs, version = seed_pages()
    session = sign_in(browser, live_server, personas.make_user(personas.OLIVIA))

    _read(session, main_pages(runs, version), "officer")

    session.page.context.close()


def test_every_other_role_reads_home_inventory_and_a_version(
    browser: Any, live_server: LiveServer
) -> None:
    runs, version = seed_pages()
    wanted = {"home", "inventory", "model-version"}
    pages = [page for page in main_pages(runs, version) if page[0] in wanted]

    for persona in (personas.DANA, personas.ERIN, personas.ADAM):
        session = sign_in(browser, live_server, personas.make_user(persona))
        _read(session, pages, persona.roles[0])
        # The version page offers the request button to data scientists alone.
        button = session.page.get_by_text("Request a stage or alias change")
        assert button.count() == (1 if persona is personas.DANA else 0), persona.username
        session.page.context.close()


def test_a_user_without_role_is_refused(browser: Any, live_server: LiveServer) -> None:
    user = User.objects.create_user("nina", password=personas.PASSWORD)

    session = sign_in(browser, live_server, user)
    session.open("/models/", expected_status=403)

    assert session.page.get_by_role("heading", level=1).inner_text() == "You may not open this page"
    session.page.context.close()
