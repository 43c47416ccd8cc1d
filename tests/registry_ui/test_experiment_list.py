"""The experiment list."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.registry_ui import mirror_data
from tests.registry_ui.conftest import client_for

URL = "/experiments/"

pytestmark = pytest.mark.django_db


def test_it_lists_experiments_with_run_counts(reader: Client) -> None:
    churn = mirror_data.experiment("churn <script>alert(1)</script>")
    mirror_data.run(churn)
    mirror_data.run(churn)
    mirror_data.experiment("pricing")

    response = reader.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "churn &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert [row.run_count for row in response.context["rows"]] == [2, 0]


def test_it_searches_by_name(reader: Client) -> None:
    mirror_data.experiment("churn")
    mirror_data.experiment("pricing")

    response = reader.get(URL, {"q": "pri"})

    assert [row.experiment.name for row in response.context["rows"]] == ["pricing"]


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_bounds_an_overlong_search(reader: Client) -> None:
    response = reader.get(URL, {"q": "x" * 5000})

    assert response.status_code == 200
    assert response.context["query"] == "x" * 200
