"""What the operator commands share: finding the user a command names."""

from django.contrib.auth.models import User
from django.core.management import CommandError


def user_named(username: str) -> User:
    """Return the user called ``username``, or stop the command saying none is."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as exc:
        raise CommandError(f"no user named {username!r}") from exc
