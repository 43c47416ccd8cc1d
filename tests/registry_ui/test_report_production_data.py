"""Runs that used production-labelled data, by dataset context or by tag."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/reports/production-data/"


@pytest.fixture
def runs(db: None) -> None:
    exp = mirror_data.experiment("scoring")
    by_context = mirror_data.run(exp, "by-context")
    mirror_data.dataset(by_context, "live-loans", "abc", context="production")
    mirror_data.dataset(by_context, "dev-loans", "def", context="training")
    mirror_data.version(mirror_data.registered_model("scorer"), 1, by_context)
    mirror_data.run(exp, "by-tag", tags={"data.production": "true"})
    mirror_data.run(exp, "tag-says-no", tags={"data.production": "false"})
    mirror_data.run(exp, "plain")


def test_it_lists_runs_by_dataset_context_and_tag(reader: Client, runs: None) -> None:
    response = reader.get(URL)

    assert response.status_code == 200
    found = {row.run.name: row for row in response.context["rows"]}
    assert set(found) == {"by-context", "by-tag"}
    assert found["by-context"].reasons == ["dataset live-loans (abc) used as production"]
    assert found["by-tag"].reasons == ["tag data.production = true"]
    assert [v.version for v in found["by-context"].versions] == [1]


def test_it_reads_the_configured_tag(reader: Client, runs: None, settings: Settings) -> None:
    settings.PRODUCTION_DATA_TAG = "source.live"
    mirror_data.run(mirror_data.experiment(), "custom", tags={"source.live": "yes"})

    names = {row.run.name for row in reader.get(URL).context["rows"]}

    assert names == {"by-context", "custom"}


def test_it_downloads_csv(reader: Client, runs: None) -> None:
    response = reader.get(URL, {"format": "csv"})

    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["experiment", "run id", "run name"]
    assert {row[2] for row in rows[1:]} == {"by-context", "by-tag"}
    assert "scorer v1" in {row[6] for row in rows[1:]}


def test_it_rejects_an_unknown_format(reader: Client) -> None:
    response = reader.get(URL, {"format": "pdf"})

    assert response.status_code == 400
    assert response.context["error"] == "Choose HTML or CSV."


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    assert client.get(URL).status_code == 302


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403
