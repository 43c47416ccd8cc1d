"""Attach a request id and the client address to every request for the ledger."""

import ipaddress
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from governance.env import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def current_request_context() -> RequestContext | None:
    """Return the context of the HTTP request being served, if any."""
    return _current.get()


def _parse_address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; compare it as IPv4,
    # the way TRUSTED_PROXIES is usually written.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def client_address(request: HttpRequest, proxies: Sequence[IPNetwork]) -> str:
    """Return the address of the client, looking past the trusted ``proxies`` only.

    REMOTE_ADDR is the TCP peer. X-Forwarded-For is client-controlled, so it is read
    only when that peer is a trusted proxy. Each proxy appends the address it received
    the request from: the right end was written by the nearest proxies, the left end
    is whatever the client claimed. Walking from the right and stopping at the first
    address no trusted proxy stands for yields the client and ignores anything it
    prepended. A malformed header falls back to the peer rather than guessing.
    """
    peer = str(request.META.get("REMOTE_ADDR", ""))
    if not proxies:
        return peer
    peer_address = _parse_address(peer)
    if peer_address is None or not _is_trusted(peer_address, proxies):
        return peer

    client = peer_address
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for hop in reversed(forwarded.split(",")):
        address = _parse_address(hop)
        if address is None:
            return peer
        client = address
        if not _is_trusted(address, proxies):
            break
    # When every hop is a trusted proxy, the left-most one is the furthest known.
    return str(client)


def request_client_address(request: HttpRequest) -> str:
    """The client address recorded for ``request``, for code handed only the request."""
    context = getattr(request, "request_context", None)
    if isinstance(context, RequestContext):
        return context.client_address
    return client_address(request, settings.TRUSTED_PROXIES)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else ""
        address = client_address(request, settings.TRUSTED_PROXIES)
        context = RequestContext(request_id or uuid.uuid4().hex, address)
        request.request_context = context  # type: ignore[attr-defined]
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response
