"""The officers' inbox: pending requests, oldest first, and why one cannot be signed."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from governance import workflow
from tests.registry_ui import workflow_data
from tests.registry_ui.conftest import client_for
from tests.support import personas

pytestmark = pytest.mark.django_db


def test_it_lists_pending_requests_with_what_the_officer_may_do(dana: User, olivia: User) -> None:
    pair = workflow_data.pair()
    first = workflow_data.requested(dana, pair.candidate)
    second = workflow_data.requested(dana, pair.candidate, "champion", "alias")
    closed = workflow_data.requested(dana, pair.incumbent, "Archived")
    workflow.cancel_request(dana, closed.pk, "Changed my mind.")
    olivia.groups.add(Group.objects.get(name="data_scientist"))
    own = workflow_data.requested(olivia, pair.incumbent, "challenger", "alias")

    response = client_for(olivia).get("/decisions/")

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [item for item, _ in rows] == [first, second, own]
    assert [bool(verdict) for _, verdict in rows] == [True, True, False]
    assert "The requester cannot decide their own request" in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/decisions/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", [personas.DANA, personas.ERIN, personas.ADAM])
def test_it_refuses_other_roles(persona: personas.Persona) -> None:
    assert client_for(personas.make_user(persona)).get("/decisions/").status_code == 403


def _production_requests(requester: User, first: int, last: int) -> None:
    for number in range(first, last):
        pair = workflow_data.pair(f"model-{number:02d}")
        workflow_data.requested(requester, pair.candidate)


def test_its_query_count_does_not_grow_with_requests(
    dana: User, olivia: User, django_assert_num_queries: Any
) -> None:
    # Production requests are the ones that ask whether the officer trained the run.
    _production_requests(dana, 0, 2)
    client = client_for(olivia)
    with CaptureQueriesContext(connection) as with_two:
        client.get("/decisions/")
    _production_requests(dana, 2, 8)

    with django_assert_num_queries(len(with_two.captured_queries)):
        response = client.get("/decisions/")

    assert len(response.context["rows"]) == 8
    assert all(verdict for _, verdict in response.context["rows"])
