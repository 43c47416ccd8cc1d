"""Fixtures shared by the audit requirement tests."""

import pytest
from pytest_django import Settings


@pytest.fixture
def fast_password_hasher(settings: Settings) -> None:
    """Hash persona passwords cheaply; the real hasher costs a second per user on 2 cores."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
