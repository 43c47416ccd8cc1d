"""Signed-in clients per persona for the reviewer page tests."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from tests.support import personas


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    """Hash persona passwords cheaply: page tests are not about password storage."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dana(db: None) -> User:
    return personas.make_user(personas.DANA)


@pytest.fixture
def olivia(db: None) -> User:
    return personas.make_user(personas.OLIVIA)


@pytest.fixture
def erin(db: None) -> User:
    return personas.make_user(personas.ERIN)


@pytest.fixture
def adam(db: None) -> User:
    return personas.make_user(personas.ADAM)


@pytest.fixture
def nobody(db: None) -> User:
    """A signed-up user who holds no role yet."""
    return User.objects.create_user("nina", password=personas.PASSWORD)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reader(erin: User) -> Client:
    """A client signed in as the executive, who may read every browse page."""
    return client_for(erin)
