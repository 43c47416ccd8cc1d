"""Property-based run of Schemathesis against our own OpenAPI schema, in-process (WSGI).

Authenticated: no 5xx, and every response conforms to the schema. Anonymous: every
operation answers 401 in the error shape. Kept small (a few examples per operation)
so the suite stays fast.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Group, User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from governance.api.tokens import create_api_token
from governance.models import ApiToken
from tests.api import data
from tests.support.personas import PASSWORD

HeaderFactory = Callable[[], dict[str, str]]
EXAMPLES_PER_OPERATION = 3


@pytest.fixture
def auditor(db: None) -> User:
    """One user holding every role, so every operation is reachable."""
    user = User.objects.create_user("auditor", password=PASSWORD, first_name="Audrey")
    user.groups.set(Group.objects.all())
    return user


@pytest.fixture
def auth_header(auditor: User) -> HeaderFactory:
    """Return headers with a live token; a case may revoke it, so re-issue when needed."""
    current: dict[str, str] = {}

    def headers() -> dict[str, str]:
        token_id = current.get("id")
        if token_id is None or ApiToken.objects.filter(pk=token_id, revoked_at__isnull=False):
            issued = create_api_token(auditor, "schemathesis", by=auditor)
            current.update(id=str(issued.token.pk), secret=issued.secret)
        return {"Authorization": f"Token {current['secret']}"}

    return headers


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    # A bare WSGI call closes the database connection when the request finishes, as
    # in production; the test's transaction must survive it, as Django's test client
    # arranges for its own requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(auth_header: HeaderFactory, _keep_test_connection: None) -> OpenApiSchema:
    exp = data.experiment("fuzzed")
    run = data.run(exp, metrics={"acc": 0.5, "bad": float("nan")}, params={"lr": "0.1"})
    data.history(run, "acc", [0.1, float("-inf")])
    data.version(data.registered_model("fuzzed"), 1, trained_by=run)
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), headers=auth_header()
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _exercise(case: Case[Any], auth_header: HeaderFactory) -> None:
    response = case.call(headers=auth_header())
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    case.validate_response(response, checks=CHECKS)

    anonymous = case.call(headers={"Authorization": ""})
    assert anonymous.status_code == 401, f"{case.method} {case.formatted_path} let anonymous in"
    assert anonymous.json()["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_every_operation_conforms_and_refuses_anonymous_callers(
    api_schema: OpenApiSchema, auth_header: HeaderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hundreds of calls from one address: throttling has tests of its own.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    # Schemathesis's own pytest integration does not run under pytest 9.2 (it reads a
    # node attribute pytest removed), so the operations are driven with Hypothesis here.
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result}"
        operations.append(result.ok())
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def exercise(case: Case[Any]) -> None:
            _exercise(case, auth_header)

        exercise()

    assert len(operations) > 10, "the schema lost its operations"
