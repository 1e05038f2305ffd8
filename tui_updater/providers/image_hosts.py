"""Which hosts an image URL from the gateway may reach (no SSRF into the operator's network).

A model's answer names the image URL, so it is untrusted: a URL to loopback, a private network,
link-local or the cloud metadata address (169.254.169.254) is refused unless the operator lists
the host in ``provider.allow_image_hosts``; the gateway's own host:port is always allowed (it
serves the files it links to). IP literals are checked before any connection. Names are
checked in the connector's resolver: the addresses it returns are the ones checked and the only
ones connected to, so a name cannot resolve to a public address for the check and a private one
for the connection. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """An image URL's host is, or resolves to, an address the tool does not connect to."""


def _as_ip(host: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IpAddress) -> bool:
    """Whether ``address`` is on the public internet (not loopback, private, link-local…)."""
    return address.is_global and not address.is_multicast


def _key(host: str, port: int | None) -> tuple[str, int | None]:
    return host.strip("[]").lower().rstrip("."), port


class ImageHostPolicy:
    """The hosts that are trusted whatever they resolve to, and the check for all others."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self._trusted: set[tuple[str, int | None]] = set()
        for entry in allowed:
            self.trust_entry(entry)

    def trust_entry(self, entry: str) -> None:
        """Trust ``host`` (any port) or ``host:port``; IPv6 literals as ``[::1]:8080``."""
        text = entry.strip()
        host, port = text, None
        if text.startswith("["):
            bracketed, _, rest = text.partition("]")
            host = bracketed[1:]
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif text.count(":") == 1:
            name, _, port_text = text.partition(":")
            if port_text.isdigit():
                host, port = name, int(port_text)
        self._trusted.add(_key(host, port))

    def trust(self, host: str, port: int | None) -> None:
        self._trusted.add(_key(host, port))

    def is_trusted(self, host: str, port: int | None) -> bool:
        name, _ = _key(host, port)
        return (name, port) in self._trusted or (name, None) in self._trusted

    def check_literal(self, host: str, port: int | None) -> None:
        """RefusedAddress when ``host`` is an IP literal that is not public (and not trusted)."""
        address = _as_ip(host)
        if address is None or self.is_trusted(host, port) or is_public(address):
            return
        raise RefusedAddress(refusal(host, str(address)))

    def check_resolved(self, host: str, port: int | None, addresses: Iterable[str]) -> None:
        """RefusedAddress when any address ``host`` resolved to is not public (and not trusted)."""
        if self.is_trusted(host, port):
            return
        for text in addresses:
            address = _as_ip(text)
            if address is None or not is_public(address):
                raise RefusedAddress(refusal(host, text))


def refusal(host: str, address: str) -> str:
    shown = host if host == address else f"{host} ({address})"
    return (
        f"refused to fetch an image from {shown}: a loopback, private, link-local or metadata "
        "address; list the host in provider.allow_image_hosts if it is yours"
    )


class CheckedResolver(AbstractResolver):
    """aiohttp's threaded resolver, refusing names that resolve to a non-public address."""

    def __init__(self, policy: ImageHostPolicy) -> None:
        self._policy = policy
        self._inner: ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver(asyncio.get_running_loop())
        results = await self._inner.resolve(host, port, family)
        self._policy.check_resolved(host, port, [result["host"] for result in results])
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def refusal_in(exc: BaseException) -> RefusedAddress | None:
    """The RefusedAddress behind a transport error (aiohttp and httpx wrap it), if any."""
    seen: set[int] = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RefusedAddress):
            return current
        seen.add(id(current))
        os_error = getattr(current, "os_error", None)
        if isinstance(os_error, RefusedAddress):
            return os_error
        current = current.__cause__ or current.__context__
    return None
