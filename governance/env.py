"""Typed readers for environment variables that fail loudly on malformed values."""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name: str) -> dict[str, str]:
    """Read ``key=value,key2=value2`` pairs; a pair without ``=`` is an error."""
    raw = os.environ.get(name, "")
    mapping: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} must be name=value pairs, got {pair!r}")
        mapping[key.strip()] = value.strip()
    return mapping


def env_counts(name: str, default: dict[str, int]) -> dict[str, int]:
    """Read ``key=N`` pairs of positive whole numbers, e.g. ``low=1,high=2``."""
    counts: dict[str, int] = {}
    for key, raw in env_mapping(name).items():
        if not raw.isdigit() or int(raw) < 1:
            raise ImproperlyConfigured(f"{name} needs positive whole numbers, got {key}={raw}")
        counts[key] = int(raw)
    return counts or dict(default)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str) -> tuple[IPNetwork, ...]:
    """Read comma-separated IP addresses or CIDR networks; an address is a /32 or /128."""
    networks: list[IPNetwork] = []
    for item in env_list(name, []):
        try:
            # strict=False would quietly widen 10.0.0.5/8 to 10.0.0.0/8; a typo in a
            # trust list should stop the process instead.
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must be IP addresses or CIDR networks, got {item!r}: {exc}"
            ) from exc
    return tuple(networks)
