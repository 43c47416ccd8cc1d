"""The request middleware: request ids and the client address behind trusted proxies."""

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from pytest_django import Settings

from governance.env import IPNetwork, env_networks
from governance.middleware import RequestContext, RequestIdMiddleware, client_address

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "198.51.100.20"
EDGE_PROXY = "203.0.113.10"
INNER_PROXY = "10.1.2.3"
# The edge proxy by address, the internal load balancers by network.
PROXIES: tuple[IPNetwork, ...] = (
    ipaddress.ip_network(EDGE_PROXY),
    ipaddress.ip_network("10.0.0.0/8"),
)


def _address(peer: str, forwarded: str | None = None) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=peer)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(request, PROXIES)


def test_it_ignores_forwarded_for_from_an_untrusted_peer() -> None:
    assert _address(CLIENT, "192.0.2.66") == CLIENT


def test_it_ignores_forwarded_for_when_no_proxy_is_trusted() -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=EDGE_PROXY, HTTP_X_FORWARDED_FOR=CLIENT)

    assert client_address(request, ()) == EDGE_PROXY


def test_it_takes_the_client_from_a_trusted_proxy() -> None:
    assert _address(EDGE_PROXY, CLIENT) == CLIENT


def test_it_walks_a_chain_of_trusted_proxies() -> None:
    # Client -> edge proxy -> internal load balancer -> this server.
    assert _address(INNER_PROXY, f"{CLIENT}, {EDGE_PROXY}") == CLIENT
    assert _address(INNER_PROXY, f"{CLIENT},{EDGE_PROXY} , 10.9.9.9") == CLIENT


def test_it_ignores_addresses_the_client_prepended() -> None:
    # The client sent "X-Forwarded-For: 10.0.0.1, 192.0.2.1"; the edge proxy appended
    # the address it saw. A trusted-looking spoofed hop must not be walked past either.
    assert _address(INNER_PROXY, f"10.0.0.1, 192.0.2.1, {CLIENT}, {EDGE_PROXY}") == CLIENT
    assert _address(EDGE_PROXY, f"10.0.0.1, {CLIENT}") == CLIENT


def test_it_stops_at_the_first_untrusted_hop_even_before_garbage() -> None:
    assert _address(EDGE_PROXY, f"not an address, {CLIENT}") == CLIENT


@pytest.mark.parametrize(
    "forwarded",
    [
        None,
        "",
        " , ",
        "unknown",
        f"{CLIENT}, garbage",
        f"{CLIENT}:51234",
        "<script>alert(1)</script>",
        "1.2.3.4.5",
        "x" * 10_000,
    ],
)
def test_it_falls_back_to_the_peer_on_a_missing_or_malformed_header(
    forwarded: str | None,
) -> None:
    assert _address(EDGE_PROXY, forwarded) == EDGE_PROXY


def test_it_names_the_furthest_proxy_when_every_hop_is_trusted() -> None:
    assert _address(INNER_PROXY, "10.7.7.7, 10.8.8.8") == "10.7.7.7"


def test_it_reads_ipv6_and_ipv4_mapped_addresses() -> None:
    proxies: tuple[IPNetwork, ...] = (ipaddress.ip_network("2001:db8::/32"), *PROXIES)
    request = RequestFactory().get(
        "/", REMOTE_ADDR="2001:db8::1", HTTP_X_FORWARDED_FOR="2001:DB9:0::7, 2001:db8::2"
    )

    # The setting's IPv4 network covers a dual-stack socket's ::ffff:a.b.c.d peer.
    assert client_address(request, proxies) == "2001:db9::7"
    assert _address(f"::ffff:{EDGE_PROXY}", CLIENT) == CLIENT


def test_the_middleware_reads_the_setting(settings: Settings) -> None:
    seen: list[RequestContext] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request.request_context)  # type: ignore[attr-defined]
        return HttpResponse()

    middleware = RequestIdMiddleware(view)
    request = RequestFactory().get("/", REMOTE_ADDR=EDGE_PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
    settings.TRUSTED_PROXIES = ()
    middleware(request)
    settings.TRUSTED_PROXIES = PROXIES
    middleware(request)

    assert [context.client_address for context in seen] == [EDGE_PROXY, CLIENT]


def test_it_reads_trusted_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert env_networks("TRUSTED_PROXIES") == ()
    monkeypatch.setenv("TRUSTED_PROXIES", " 203.0.113.10, 10.0.0.0/8 ,2001:db8::/32,")
    assert [str(n) for n in env_networks("TRUSTED_PROXIES")] == [
        "203.0.113.10/32",
        "10.0.0.0/8",
        "2001:db8::/32",
    ]


@pytest.mark.parametrize(
    ("raw", "bad"),
    [("10.0.0.0/8, proxy.internal", "proxy.internal"), ("10.0.0.5/8", "10.0.0.5/8")],
)
def test_it_refuses_a_malformed_trust_list(
    monkeypatch: pytest.MonkeyPatch, raw: str, bad: str
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", raw)

    with pytest.raises(ImproperlyConfigured, match=f"TRUSTED_PROXIES must be IP .*'{bad}'"):
        env_networks("TRUSTED_PROXIES")


def test_a_malformed_trust_list_stops_the_process_at_startup() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "TRUSTED_PROXIES": "10.0.0.0/33"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: TRUSTED_PROXIES must be IP addresses" in result.stderr
