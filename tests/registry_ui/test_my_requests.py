"""A data scientist's own requests, with their status and a cancel form."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


def test_it_lists_only_my_requests(dana: User) -> None:
    pair = workflow_data.pair()
    derek = personas.make_user(personas.DEREK)
    mine = workflow_data.requested(dana, pair.candidate)
    workflow_data.requested(derek, pair.candidate, "champion", "alias")

    response = client_for(dana).get("/requests/mine/")

    assert response.status_code == 200
    assert response.context["requests"] == [mine]
    body = response.content.decode()
    assert f'action="/requests/{mine.pk}/cancel/"' in body
    assert f'<label for="cancel-reason-{mine.pk}"' in body


def test_it_says_when_there_is_none(dana: User) -> None:
    body = client_for(dana).get("/requests/mine/").content.decode()

    assert "You have made no request yet." in body


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/requests/mine/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_an_officer(olivia: User) -> None:
    assert client_for(olivia).get("/requests/mine/").status_code == 403
