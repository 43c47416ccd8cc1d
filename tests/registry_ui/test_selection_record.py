"""One model-selection record: why this version and not the one it replaces."""

import json

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


def test_a_record_explains_the_choice_with_its_evidence_chart(
    reader: Client, decided: TransitionRequest
) -> None:
    response = reader.get(f"/selection/{decided.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Why version 2 of credit-scorer and not version 1" in body
    assert "Olivia Pope <strong>approved</strong> it" in body
    marker = 'id="evidence-metrics-figure" type="application/json">'
    figure = json.loads(body.split(marker)[1].split("</script>")[0])
    assert figure["data"][1]["y"] == [0.81, 0.7]
    assert "<form" not in body.split("</header>")[1]


def test_an_undecided_request_has_no_record(reader: Client, dana: User) -> None:
    pending = workflow_data.requested(dana, workflow_data.pair().candidate)

    assert reader.get(f"/selection/{pending.pk}/").status_code == 404


def test_it_sends_anonymous_visitors_to_the_login_page(
    client: Client, decided: TransitionRequest
) -> None:
    response = client.get(f"/selection/{decided.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_refuses_a_data_scientist(decided: TransitionRequest) -> None:
    derek = client_for(personas.make_user(personas.DEREK))

    assert derek.get(f"/selection/{decided.pk}/").status_code == 403
