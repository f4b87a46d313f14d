"""Outbound URL safety: webhooks and callbacks must not reach into the service's own network."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from nlp_service.errors import NlpServiceError

__all__ = ["check_outbound_url"]


def check_outbound_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``unsafe-url`` for non-HTTP(S) URLs and, unless allowed, private/loopback targets.

    Every address the host name resolves to is checked (a public name pointing at 127.0.0.1 is
    refused too).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NlpServiceError("unsafe-url", f"{url!r} is not an http(s) URL with a host.")
    if allow_private:
        return
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise NlpServiceError("unsafe-url", f"The host {host!r} does not resolve.") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast
                or addr.is_unspecified):
            raise NlpServiceError(
                "unsafe-url",
                f"{host!r} resolves to {addr}, a private or loopback address. Use a public receiver, or set "
                "NLP_ALERTS__ALLOW_PRIVATE_URLS=true for on-premises receivers.")
