"""API test helpers: personas as users, clients holding a real API token."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from governance.api.tokens import create_api_token
from tests.support.personas import ADAM, DANA, DEREK, ERIN, OLIVIA, OSCAR, make_user

ClientFor = Callable[[User], APIClient]


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> Iterator[None]:
    # Throttle counters live in the cache; one test must not spend another's budget.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Personas are created per test; the production hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dana(db: None) -> User:
    return make_user(DANA)


@pytest.fixture
def derek(db: None) -> User:
    return make_user(DEREK)


@pytest.fixture
def olivia(db: None) -> User:
    return make_user(OLIVIA)


@pytest.fixture
def oscar(db: None) -> User:
    return make_user(OSCAR)


@pytest.fixture
def erin(db: None) -> User:
    return make_user(ERIN)


@pytest.fixture
def adam(db: None) -> User:
    return make_user(ADAM)


@pytest.fixture
def nobody(db: None) -> User:
    """A signed-up user who holds no governance role."""
    return User.objects.create_user("nobody", password="irrelevant-password-123")


@pytest.fixture
def client_for(db: None) -> ClientFor:
    """Return an API client authenticated as ``user`` with a freshly issued token."""

    def build(user: User) -> APIClient:
        issued = create_api_token(user, "tests", by=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
        return client

    return build


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
