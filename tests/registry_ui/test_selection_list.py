"""The list of model-selection records: each decision with who, when and why."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from governance.models import TransitionRequest
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(dana: User, olivia: User) -> TransitionRequest:
    return workflow_data.decided(dana, olivia)


def test_it_lists_decided_requests_only(reader: Client, decided: TransitionRequest) -> None:
    response = reader.get("/selection/")

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [decided]
    body = response.content.decode()
    assert "Olivia Pope (approved" in body
    assert "Higher AUC, same data." in body
    assert "Dana Scully" in body


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/selection/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", [personas.DANA, personas.ADAM])
def test_it_refuses_other_roles(persona: personas.Persona) -> None:
    assert client_for(personas.make_user(persona)).get("/selection/").status_code == 403
