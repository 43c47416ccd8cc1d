"""The list of reports."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.registry_ui.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/reports/"


def test_it_offers_each_report(reader: Client) -> None:
    body = reader.get(URL).content.decode()

    assert 'action="/reports/dataset-models/"' in body
    assert 'href="/reports/production-data/?format=csv"' in body
    assert "data.production" in body


def test_it_sends_anonymous_visitors_to_login(client: Client) -> None:
    assert client.get(URL).status_code == 302


def test_it_refuses_a_user_without_role(nobody: User) -> None:
    assert client_for(nobody).get(URL).status_code == 403


def test_it_ignores_unknown_query_parameters(reader: Client) -> None:
    assert reader.get(URL, {"x": "<script>"}).status_code == 200
