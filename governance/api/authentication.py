"""Authenticate machines by API token: ``Authorization: Token <secret>`` (or ``Bearer``)."""

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from governance.api.tokens import RefusedToken, digest, record_refused_token
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
        try:
            return self._authenticate_parts(parts)
        except RefusedToken as refused:
            guesses = FailedTokenThrottle()
            view: Any = (request.parser_context or {}).get("view")
            if not guesses.allow_request(request, view):
                raise exceptions.Throttled(guesses.wait()) from None
            # Recorded only below the throttle, so guessing cannot flood the ledger.
            record_refused_token(request.path, refused.token, refused.why)
            raise exceptions.AuthenticationFailed(refused.message) from None

    def _authenticate_parts(self, parts: list[bytes]) -> tuple[AbstractBaseUser, ApiToken]:
        if len(parts) != 2:
            raise RefusedToken("malformed", "Give exactly one token after the keyword.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise RefusedToken("malformed", "Invalid token.") from None

        token = ApiToken.objects.select_related("user").filter(key_digest=digest(secret)).first()
        if token is None:
            raise RefusedToken("unknown")
        if token.revoked_at is not None:
            raise RefusedToken("revoked", token=token)
        if not token.user.is_active:
            raise RefusedToken("owner inactive", token=token)

        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
