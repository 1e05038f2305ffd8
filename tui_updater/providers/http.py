"""The HTTP edge of the OpenAI-compatible provider: one httpx client per gateway, error translation.

Every gateway call (chat JSON, image generation, image download) goes through one
``httpx.AsyncClient`` on the ``httpx-aiohttp`` transport: httpcore's pool costs O(pool²) per
request at the concurrency a gateway takes (peer-baselines.md section 3); aiohttp's does not.
Tests inject an ``httpx`` transport into the same client. This is the only module of
``providers`` that imports httpx; everything it raises is a ``tui_updater.errors`` class.

No request is sent twice here: neither httpx nor the transport retries a POST (aiohttp retries
only idempotent methods on a stale keep-alive connection), so a POST that dies on a reused
connection surfaces as ``ProviderUnavailable`` and the engine decides.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from tui_updater.config import gateway_url_problem
from tui_updater.errors import (
    ConfigError,
    InvalidOutput,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)
from tui_updater.providers.gateway_errors import (
    error_of,
    translate_error_in_success,
    translate_status,
)
from tui_updater.providers.image_hosts import (
    CheckedResolver,
    ImageHostPolicy,
    RefusedAddress,
    refusal_in,
)

Transport = httpx.AsyncBaseTransport
MockTransport = httpx.MockTransport

_UNSAFE_HEADER_CHARS = re.compile(r"[\r\n\x00]")
_ERROR_BODY_LIMIT_BYTES = 65_536
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def normalise_base_url(base_url: str) -> str:
    """Strip trailing slashes and make sure the base ends in ``/v1``."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ValueError("the gateway base URL is empty")
    if "://" not in url:
        url = "https://" + url
    return url if url.endswith("/v1") else url + "/v1"


def translate_transport_error(exc: httpx.HTTPError, *, host: str) -> Exception:
    """The tui_updater.errors exception for an httpx transport failure.

    httpx-aiohttp reports every aiohttp connection error as ``ConnectTimeout``; the aiohttp
    error it wraps (``__cause__``) tells a timeout from a closed connection.
    """
    cause = exc.__cause__
    timed_out = isinstance(exc, httpx.TimeoutException) and (
        cause is None or isinstance(cause, TimeoutError)
    )
    if timed_out:
        return ProviderTimeout(f"{type(exc).__name__} talking to {host}")
    kind = type(cause if cause is not None else exc).__name__
    detail = str(cause if cause is not None else exc)
    return ProviderUnavailable(f"{kind} talking to {host}: {detail}".rstrip(": "))


def is_push_back(exc: BaseException) -> bool:
    """Whether ``exc`` says the gateway is over its capacity (the limiter shrinks on it)."""
    if isinstance(exc, ProviderRateLimited | ProviderTimeout):
        return True
    return isinstance(exc, ProviderUnavailable) and exc.status_code == 503


def check_header_value(name: str, value: str) -> str:
    """``value`` unchanged; ConfigError when it could split the request (CR, LF or NUL)."""
    if _UNSAFE_HEADER_CHARS.search(value):
        raise ConfigError(f"the {name} contains a line break or NUL; refusing to send it")
    return value


async def _read_at_most(response: httpx.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        received += len(chunk)
        if received >= max_bytes:
            break
    return b"".join(chunks)[:max_bytes]


async def _read_limited(response: httpx.Response, max_bytes: int, host: str) -> tuple[bytes, str]:
    """The body of a streamed download (at most ``max_bytes``) and its bare content type."""
    if 300 <= response.status_code < 400:
        target = response.headers.get("location", "")[:120]
        raise InvalidOutput(
            f"the image at {host} redirects (HTTP {response.status_code}) to {target!r}; "
            "redirects are not followed, so the gateway must link the image itself"
        )
    if not 200 <= response.status_code < 300:
        body = await _read_at_most(response, _ERROR_BODY_LIMIT_BYTES)
        raise translate_status(response.status_code, body, response.headers, host=host)
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise InvalidOutput(
            f"image at {host} is {int(declared)} bytes, over the {max_bytes}-byte limit"
        )
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise InvalidOutput(f"image at {host} is over the {max_bytes}-byte limit")
        chunks.append(chunk)
    content_type = response.headers.get("content-type", "")
    return b"".join(chunks), content_type.split(";")[0].strip().lower()


def _looks_like_html(content: bytes, headers: Mapping[str, str]) -> bool:
    if "html" in headers.get("content-type", "").lower():
        return True
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _html_answer(host: str, path: str, status_code: int, content: bytes) -> Exception:
    """A web page where JSON was expected: the base URL points at a site (or a proxy's login
    page) rather than the API. Retrying cannot change that, so it is permanent: one call per
    item instead of the engine's whole retry budget."""
    title_match = _HTML_TITLE.search(content[:65_536])
    title = " ".join(title_match.group(1).decode("utf-8", "replace").split()) if title_match else ""
    titled = f" titled {title[:80]!r}" if title else ""
    return ProviderResponseError(
        f"{host} answered {path} with an HTML page{titled} ({len(content)} bytes), not JSON: "
        "check provider.base_url (the API address, usually ending in /v1) and any proxy",
        status_code=status_code,
    )


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class CertificatesOnFirstUse(ssl.SSLContext):
    """A verifying TLS client context that loads its CA certificates when its first connection
    starts: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR as httpx reads them. One is
    shared by every transport of a client, and a gateway on plain http never loads it (the
    bundle costs ~40 ms of CPU)."""

    _loaded = False

    def load_once(self) -> None:
        if self._loaded:
            return
        if os.environ.get("SSL_CERT_FILE"):
            self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
        else:
            import certifi

            self.load_verify_locations(cafile=certifi.where())
        self._loaded = True

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_once()
        return super().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_once()
        return super().wrap_socket(*args, **kwargs)


def tls_context() -> CertificatesOnFirstUse:
    """What ``ssl.create_default_context`` makes for a client, certificates loaded on first use."""
    return CertificatesOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)  # verifies peer and host name


def _build_client(
    timeout: httpx.Timeout,
    max_connections: int,
    proxy: str | None,
    transport: Transport | None,
    policy: ImageHostPolicy,
) -> httpx.AsyncClient:
    """The one client: aiohttp underneath (with the checking resolver) unless a test injects
    its transport.

    Proxies come from ``proxy`` or, with no transport injected, from the environment
    (HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, as httpx reads them); certificates from certifi,
    in one context every transport shares, loaded by the first TLS connection.
    A proxy's own host is trusted like the gateway's; the names behind it are the proxy's to
    resolve.
    """
    import aiohttp
    from httpx_aiohttp import HttpxAiohttpClient
    from httpx_aiohttp.transport import AiohttpTransport

    def checked(made: AiohttpTransport) -> AiohttpTransport:
        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(
                limit=made.limits.max_connections or 0,
                keepalive_timeout=made.limits.keepalive_expiry,
                ssl=made.ssl_context,
                resolver=CheckedResolver(policy),
            )
            return aiohttp.ClientSession(connector=connector)

        made.client = session
        return made

    class CheckedClient(HttpxAiohttpClient):
        def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            made = super()._init_transport(*args, **kwargs)
            return checked(made) if isinstance(made, AiohttpTransport) else made

        def _init_proxy_transport(
            self, proxy: httpx.Proxy, *args: Any, **kwargs: Any
        ) -> httpx.AsyncBaseTransport:
            url = proxy.url
            policy.trust(url.host, url.port or _default_port(url.scheme))
            made = super()._init_proxy_transport(proxy, *args, **kwargs)
            return checked(made) if isinstance(made, AiohttpTransport) else made

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return CheckedClient(
        timeout=timeout,
        limits=limits,
        proxy=proxy,
        transport=transport,
        trust_env=True,
        verify=tls_context(),
    )


class GatewayClient:
    """JSON requests and downloads for one gateway, each bounded in total time."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 180.0,
        write_timeout_s: float = 30.0,
        total_timeout_s: float = 300.0,
        download_timeout_s: float = 60.0,
        max_connections: int = 64,
        proxy: str | None = None,
        transport: Transport | None = None,
        allow_image_hosts: Sequence[str] = (),
    ) -> None:
        problem = gateway_url_problem(base_url) if base_url.strip() else "it is empty"
        if problem is not None:
            raise ConfigError(f"provider base_url {problem}")
        self.base_url = normalise_base_url(base_url)
        parts = urlsplit(self.base_url)
        assert parts.hostname is not None  # gateway_url_problem checked it
        self.host = parts.netloc
        self.image_hosts = ImageHostPolicy(allow_image_hosts)
        self.image_hosts.trust(parts.hostname, parts.port or _default_port(parts.scheme))
        self._auth_header = {"Authorization": check_header_value("API key", f"Bearer {api_key}")}
        self._json_headers = {**self._auth_header, "Content-Type": "application/json"}
        self._urls: dict[str, httpx.URL] = {}  # per API path: httpx parses a URL string each time
        self.total_timeout_s = total_timeout_s
        self.download_timeout_s = download_timeout_s
        timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=write_timeout_s, pool=None
        )
        self._client = _build_client(
            timeout, max(1, max_connections), proxy, transport, self.image_hosts
        )

    def __repr__(self) -> str:
        return f"GatewayClient(base_url={self.base_url!r}, api_key='****')"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _api_url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(self.url(path))
            if len(self._urls) < 16:  # the few API paths this client calls
                self._urls[path] = url
        return url

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``base_url/path``; the decoded JSON object of a 2xx answer."""
        return await self._request_json("POST", path, body)

    async def get_json(self, path: str) -> dict[str, Any]:
        """GET ``base_url/path``; the decoded JSON object of a 2xx answer."""
        return await self._request_json("GET", path, None)

    async def _request_json(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        content = None
        headers = self._auth_header
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers = self._json_headers
        try:
            async with asyncio.timeout(self.total_timeout_s):
                response = await self._client.request(
                    method, self._api_url(path), content=content, headers=headers
                )
        except TimeoutError:
            raise ProviderTimeout(
                f"{self.host} did not answer {path} within {self.total_timeout_s:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, host=self.host) from None
        return self._decode(path, response.status_code, response.content, response.headers)

    def _decode(
        self, path: str, status_code: int, content: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The JSON object of a 2xx answer; the typed error otherwise."""
        if not 200 <= status_code < 300:
            raise translate_status(status_code, content, headers, host=self.host)
        if not content:
            raise ProviderUnavailable(
                f"{self.host} answered {path} with HTTP {status_code} and no content",
                status_code=status_code,
            )
        if _looks_like_html(content, headers):
            raise _html_answer(self.host, path, status_code, content)
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise ProviderUnavailable(
                f"{self.host} answered {path} with a body that is not JSON",
                status_code=status_code,
            ) from None
        if not isinstance(data, dict):
            raise ProviderUnavailable(
                f"{self.host} answered {path} with JSON that is not an object",
                status_code=status_code,
            )
        error = error_of(data)
        if error is not None:
            raise translate_error_in_success(status_code, error, headers, host=self.host, path=path)
        return data

    async def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """Fetch ``url`` at once (no credentials unless it is on the gateway), bounded in size
        and in total time. Returns the body and its content type."""
        parts = urlsplit(url)
        host = parts.netloc or url
        headers = self._auth_header if host == self.host else {}
        try:
            port = parts.port or _default_port(parts.scheme)
            self.image_hosts.check_literal(parts.hostname or "", port)
        except ValueError:  # a port that is not a number
            raise InvalidOutput(
                f"the gateway returned an unusable image URL {url[:80]!r}"
            ) from None
        except RefusedAddress as exc:
            raise InvalidOutput(str(exc)) from None
        try:
            async with (
                asyncio.timeout(self.download_timeout_s),
                self._client.stream("GET", url, headers=headers) as response,
            ):
                return await _read_limited(response, max_bytes, host)
        except TimeoutError:
            raise ProviderTimeout(
                f"the image at {host} did not arrive within {self.download_timeout_s:g}s"
            ) from None
        except httpx.InvalidURL:
            raise InvalidOutput(
                f"the gateway returned an unusable image URL {url[:80]!r}"
            ) from None
        except httpx.HTTPError as exc:
            refused = refusal_in(exc)
            if refused is not None:
                raise InvalidOutput(str(refused)) from None
            raise translate_transport_error(exc, host=host) from None

    async def aclose(self) -> None:
        await self._client.aclose()
