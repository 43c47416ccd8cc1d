"""Each role signs in through the login form and reads the main pages in Chromium."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from governance.models import ModelVersion, Run
from tests.browser.conftest import Session, sign_in
from tests.registry_ui import mirror_data
from tests.support import personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed() -> tuple[list[Run], ModelVersion]:
    exp = mirror_data.experiment("credit-scoring")
    runs = []
    for index, (accuracy, optimizer) in enumerate([(0.81, "adam"), (0.86, "sgd"), (0.9, "adam")]):
        run = mirror_data.run(
            exp,
            f"trial-{index}",
            {"accuracy": accuracy, "loss": 1 - accuracy},
            {"optimizer": optimizer, "learning_rate": str(0.01 * (index + 1))},
            user_id="dana",
            git_commit="4f2a9c1",
        )
        mirror_data.history(run, "accuracy", [accuracy - 0.2, accuracy - 0.1, accuracy])
        mirror_data.dataset(run, "loans-2025", "9e1f0c", context="training")
        runs.append(run)
    model = mirror_data.registered_model("credit-scorer", risk_tier="high", aliases={"champion": 2})
    mirror_data.version(model, 1, runs[0], stage="Archived")
    version = mirror_data.version(
        model,
        2,
        runs[2],
        stage="Production",
        signature={
            "inputs": [{"type": "double", "name": "income", "required": True}],
            "outputs": [{"type": "long", "required": True}],
        },
    )
    return runs, version


def _main_pages(runs: list[Run], version: ModelVersion) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("experiments", "/experiments/"),
        ("runs", f"/experiments/{runs[0].experiment_id}/runs/?sort=-metrics.accuracy"),
        ("run-detail", f"/runs/{runs[2].pk}/"),
        ("compare", "/runs/compare/?" + "&".join(f"run={r.pk}" for r in runs)),
        ("inventory", "/models/"),
        ("model-version", f"/models/versions/{version.pk}/"),
        ("reports", "/reports/"),
        ("report-dataset", "/reports/dataset-models/?dataset=9e1f0c"),
    ]


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
    runs, version = _seed()
    session = sign_in(browser, live_server, personas.make_user(personas.OLIVIA))

    _read(session, _main_pages(runs, version), "officer")

    session.page.context.close()


def test_every_other_role_reads_home_inventory_and_a_version(
    browser: Any, live_server: LiveServer
) -> None:
    runs, version = _seed()
    wanted = {"home", "inventory", "model-version"}
    pages = [page for page in _main_pages(runs, version) if page[0] in wanted]

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
