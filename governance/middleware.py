"""Attach a request id and the client address to every request for the ledger."""

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def current_request_context() -> RequestContext | None:
    """Return the context of the HTTP request being served, if any."""
    return _current.get()


def _client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR is the peer; a reverse proxy that sets X-Forwarded-For is trusted
    # only when the deployment opts in, since the header is client-controlled.
    return str(request.META.get("REMOTE_ADDR", ""))


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else ""
        context = RequestContext(request_id or uuid.uuid4().hex, _client_address(request))
        request.request_context = context  # type: ignore[attr-defined]
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response
