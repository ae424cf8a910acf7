"""Where a webhook may be sent: public internet addresses only (no SSRF into our network).

Refused, in both modes: loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16,
where cloud metadata lives; fe80::/10), multicast, reserved, unspecified, shared (100.64/10)
and every other non-global address, by IP literal or by any address the name resolves to;
names such as ``localhost`` and ``*.internal`` by name. Live mode also requires ``https``.
Loopback is allowed for test-mode endpoints only when ``SMILEPAY_WEBHOOKS_ALLOW_LOOPBACK`` is
set (a developer's local receiver); never for live ones.

The check runs when an endpoint is created (``check_url``) and again at every delivery on the
addresses the name resolves to then (``resolve_allowed``): the sender connects to the address
it checked, so a name that changes its answer between check and connect (DNS rebinding)
cannot point the request inside.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from smilepay.errors import InvalidInput

Resolver = Callable[[str, int], Sequence[str]]
_REFUSED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


class WebhookTargetRefused(InvalidInput):
    code = "webhook_target_refused"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_target(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetRefused("expected an http(s) URL with a valid host and port, got "
                                   "another form", param="url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookTargetRefused("expected an http(s) URL with a host, got another form",
                                   param="url")
    if parts.username or parts.password:
        raise WebhookTargetRefused("expected a URL without user or password, got one",
                                   param="url")
    return Target(parts.scheme, parts.hostname.lower().rstrip("."),
                  port or (443 if parts.scheme == "https" else 80))


def address_refusal(address: str, livemode: bool, allow_loopback: bool) -> str | None:
    """Why ``address`` may not receive webhooks, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback and not livemode else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a private or reserved address"
    return None


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class TargetPolicy:
    """``allow_loopback``: test-mode endpoints may be on this machine (a developer's
    receiver); ``resolver``: name to addresses (the system's by default)."""

    allow_loopback: bool = False
    resolver: Resolver = system_resolver

    def _refuse(self, why: str) -> WebhookTargetRefused:
        # says what kind of address, never which one, nor anything about the target's answer
        return WebhookTargetRefused(f"expected a webhook URL on a public address, got {why}",
                                    param="url")

    def _by_name(self, target: Target, livemode: bool) -> None:
        if livemode and target.scheme != "https":
            raise WebhookTargetRefused("expected an https URL for a live endpoint, got http",
                                       param="url")
        name = target.host
        local = (name == "localhost" or name.endswith(_REFUSED_SUFFIXES)
                 or ("." not in name and _literal(name) is None))
        loopback_name = name == "localhost" or name.endswith(".localhost")
        if local and not (loopback_name and self.allow_loopback and not livemode):
            raise self._refuse("a local host name")

    def check_form(self, url: str, livemode: bool) -> Target:
        """Without the network: the URL's form, its name, and its address if a literal."""
        target = parse_target(url)
        self._by_name(target, livemode)
        literal = _literal(target.host)
        if literal is not None:
            why = address_refusal(literal, livemode, self.allow_loopback)
            if why is not None:
                raise self._refuse(why)
        return target

    def check_url(self, url: str, livemode: bool) -> Target:
        """At creation: ``check_form`` and the addresses the name has now, when it resolves
        (one that does not resolve yet is kept: every delivery resolves and checks again)."""
        target = self.check_form(url, livemode)
        with contextlib.suppress(OSError):
            self.resolve_allowed(target, livemode)
        return target

    def resolve_allowed(self, target: Target, livemode: bool) -> list[str]:
        """At delivery: every address the host has now, all of them allowed, else refused
        (one bad address refuses the lot: a name must not mix public and private ones)."""
        self._by_name(target, livemode)
        literal = _literal(target.host)
        addresses = [literal] if literal is not None else list(
            self.resolver(target.host, target.port))
        if not addresses:
            raise OSError(f"no address for the webhook host ({len(target.host)} characters)")
        for address in addresses:
            why = address_refusal(address, livemode, self.allow_loopback)
            if why is not None:
                raise self._refuse(why)
        return addresses
