"""A real Chromium (Debian's, driven by Playwright) against the live test server."""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from governance.permissions import ROLES
from tests.support import personas
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session; fails in CI and skips elsewhere if missing."""
    require(
        "Chromium",
        CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK),
        f"{CHROMIUM} is missing; run scripts/install_browser.sh",
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django refuses
    # ORM calls under a running loop unless told the calls are knowingly synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def roles_exist(transactional_db: None) -> None:
    """Recreate the role groups: the flush between live-server tests removes them."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    """Hash persona passwords cheaply: these tests are about pages, not password storage."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Session:
    """A browser tab signed in as one persona, recording what a page should never do."""

    page: Any
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def open(self, path: str, expected_status: int = 200) -> Any:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None
        assert response.status == expected_status, f"{path} answered {response.status}"
        return response

    def wait_for_charts(self) -> int:
        """Wait until every chart container on the page holds a drawn Plotly figure."""
        count = self.page.locator("[data-figure]").count()
        if count:
            self.page.wait_for_function(
                "n => document.querySelectorAll('[data-figure].js-plotly-plot').length >= n",
                arg=count,
                timeout=20_000,
            )
        assert self.page.locator(".chart-unavailable").count() == 0, "a chart was not drawn"
        # Plotly prints this notice over the page when a WebGL chart fails.
        assert "get.webgl.org" not in self.page.inner_text("body")
        return int(count)

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Any, live_server: LiveServer, user: User) -> Session:
    """Open a fresh context and log in through the login form."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    session = Session(page, live_server.url)

    def on_dialog(dialog: Any) -> None:
        session.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if message.type == "error":
            session.console_errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", personas.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    return session
