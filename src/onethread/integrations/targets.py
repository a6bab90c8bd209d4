"""Where a subscription may send: http(s) only, and no private network unless allowed.

The URL is checked when saved, and the addresses its host resolves to before each
request (a public name may point at a private address; docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from onethread.errors import InvalidInput


class TargetRefused(Exception):
    """The URL's host is (or resolves to) an address outside the public internet."""


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if it may be subscribed, else InvalidInput saying why."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("a webhook URL must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL may not carry a user name or password")
    if not allow_private:
        host = parts.hostname
        literal_ip = True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            literal_ip = False
        if host == "localhost" or host.endswith(".localhost") or (literal_ip and _private(host)):
            raise InvalidInput(
                f"{host} is a private address; set ONETHREAD_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )
    return url


async def check_resolved(url: str, *, allow_private: bool) -> str | None:
    """Refuse a host that resolves to a private address (before each request); the public
    address checked, for the request to connect to (``pinned``), or None when private
    targets are allowed and nothing was resolved."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from exc  # retried
    addresses = [str(info[4][0]) for info in infos]
    private = sorted({address for address in addresses if _private(address)})
    if private or not addresses:
        raise TargetRefused(f"{host} resolves to a private address ({', '.join(private)})")
    return addresses[0]


def pinned(url: str, address: str | None) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The request to ``address`` (the one checked) rather than to a second lookup of the
    name, which a DNS server could answer differently (DNS rebinding): the URL with the
    address, the ``Host`` header and, for https, the name to verify the certificate
    against (httpx's ``sni_hostname``). Unchanged when ``address`` is None."""
    target = httpx.URL(url)
    if address is None:
        return target, {}, {}
    host_header = target.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return target.copy_with(host=address), {"Host": host_header}, extensions
