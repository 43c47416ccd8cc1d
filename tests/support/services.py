"""Find the real services the tests need; in CI a missing one is a failure."""

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(service: str, available: bool, detail: str) -> None:
    """Fail (in CI) or skip (elsewhere) when ``service`` is not reachable."""
    if available:
        return
    message = f"{service} is required for this test: {detail}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
