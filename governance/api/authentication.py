"""Authenticate machines by API token: ``Authorization: Token <secret>`` (or ``Bearer``)."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from governance.api.tokens import digest
from governance.models import ApiToken

KEYWORDS = (b"token", b"bearer")
# ``last_used_at`` is refreshed at most this often, so reads do not each write a row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class FailedTokenThrottle(SimpleRateThrottle):
    """Limit wrong tokens per client address at the anonymous rate, against guessing."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: object) -> str:
        # Not ``request.user``: this runs while the request is being authenticated.
        return self.cache_format % {"scope": "failed-token", "ident": self.get_ident(request)}


class ApiTokenAuthentication(BaseAuthentication):
    """Look a token up by the SHA-256 of its secret; revoked tokens fail."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Give exactly one token after the keyword.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        try:
            return self._authenticate_secret(secret)
        except exceptions.AuthenticationFailed:
            guesses = FailedTokenThrottle()
            view: Any = (request.parser_context or {}).get("view")
            if not guesses.allow_request(request, view):
                raise exceptions.Throttled(guesses.wait()) from None
            raise

    def _authenticate_secret(self, secret: str) -> tuple[AbstractBaseUser, ApiToken]:
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_digest=digest(secret), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")

        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
