"""Record security events on the ledger: failed and locked-out logins, by username.

Refused actions and role changes are recorded by the services that refuse or make
them. No entry ever carries the password: Django's signal passes the credentials
with secrets masked, and only the username is read from them.
"""

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from governance import ledger
from governance.middleware import current_request_context
from governance.models import LedgerEntry

logger = logging.getLogger(__name__)

LOGIN_FAILED = "security.login_failed"
LOGIN_LOCKED_OUT = "security.login_locked_out"
# Usernames come from whoever is at the login form; a bounded prefix is enough.
_MAX_USERNAME = 256
# The User model's username length; django-axes stores at most 255 characters.
_USERNAME_LENGTH = 150


def attempted_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username django-axes counts failures under, cut to what a username can be."""
    return str((credentials or {}).get("username", ""))[:_USERNAME_LENGTH]


def _client_address(request: HttpRequest | None) -> str:
    context = current_request_context()
    if context is not None:
        return context.client_address
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def record_login_failed(
    sender: Any,
    credentials: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """Append a ``security.login_failed`` entry for a refused login attempt."""
    attempted = str((credentials or {}).get("username", ""))
    details: dict[str, Any] = {"attempted_username": attempted[:_MAX_USERNAME]}
    if len(attempted) > _MAX_USERNAME:
        details["attempted_username_length"] = len(attempted)
    if request is not None:
        details["path"] = request.path[:_MAX_USERNAME]

    entry = _append(LOGIN_FAILED, attempted, details, _client_address(request))
    logger.warning("login failed: ledger entry %s from %s", entry.seq, entry.client_address)


def record_login_locked_out(
    sender: Any,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    """Append a ``security.login_locked_out`` entry when django-axes refuses a login."""
    attempted = str(username or "")
    entry = _append(
        LOGIN_LOCKED_OUT,
        attempted,
        {"attempted_username": attempted[:_MAX_USERNAME]},
        str(ip_address or "") or _client_address(request),
        reason="too many failed logins from this address",
    )
    logger.warning("login locked out: ledger entry %s from %s", entry.seq, entry.client_address)


def _append(
    action: str, attempted: str, details: dict[str, Any], client_address: str, reason: str = ""
) -> LedgerEntry:
    with transaction.atomic():
        return ledger.append(
            ledger.EntryDraft(
                action=action,
                object_type="user",
                object_id=attempted[:_MAX_USERNAME],
                precision="recorded",
                reason=reason,
                details=details,
                client_address=client_address,
            )
        )
