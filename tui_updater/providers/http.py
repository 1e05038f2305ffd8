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
import email.utils
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tui_updater.errors import (
    ConfigError,
    InvalidOutput,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)

Transport = httpx.AsyncBaseTransport
MockTransport = httpx.MockTransport

QUOTA_CODES = frozenset({"insufficient_user_quota", "insufficient_quota", "quota_exceeded"})
# NewAPI words its own limiter and its saturated upstream groups like this (any status code).
SATURATED = re.compile(
    r"饱和|rate.?limit|too many requests|saturat|overloaded|请求过于频繁|限流", re.I
)
_MESSAGE_LIMIT_CHARS = 300
_UNSAFE_HEADER_CHARS = re.compile(r"[\r\n\x00]")


def normalise_base_url(base_url: str) -> str:
    """Strip trailing slashes and make sure the base ends in ``/v1``."""
    url = base_url.strip().rstrip("/")
    if not url:
        raise ValueError("the gateway base URL is empty")
    if "://" not in url:
        url = "https://" + url
    return url if url.endswith("/v1") else url + "/v1"


def parse_retry_after(value: str | None, *, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP-date); None if absent."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current_s = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - current_s)


def gateway_message(body: bytes) -> tuple[str, str]:
    """The gateway's error message and code from a NewAPI/OpenAI error body (best effort)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body[:_MESSAGE_LIMIT_CHARS].decode("utf-8", "replace").strip()
        return text, ""
    error: Any = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, str):
        return error[:_MESSAGE_LIMIT_CHARS], ""
    if not isinstance(error, dict):
        return str(error)[:_MESSAGE_LIMIT_CHARS], ""
    message = str(error.get("message") or error.get("msg") or "").strip()
    code = str(error.get("code") or error.get("type") or "").strip()
    return message[:_MESSAGE_LIMIT_CHARS], code


def translate_status(
    status_code: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    host: str,
    now_s: Callable[[], float] = time.time,
) -> Exception:
    """The tui_updater.errors exception for a non-2xx gateway answer.

    A 5xx worded as saturation or a rate limit is ``ProviderRateLimited``: the gateway is
    pushing back, whatever status it chose.
    """
    message, code = gateway_message(body)
    detail = f": {message}" if message else ""
    text = f"HTTP {status_code} from {host}{detail}"
    retry_after_s = parse_retry_after(headers.get("retry-after"), now_s=now_s())
    lowered = f"{message} {code}".lower()
    if (
        status_code == 402
        or code in QUOTA_CODES
        or (400 <= status_code < 500 and "quota" in lowered)
    ):
        return ProviderQuotaExceeded(text)
    if status_code == 429 or (status_code >= 500 and SATURATED.search(lowered)):
        return ProviderRateLimited(text, retry_after_s=retry_after_s)
    if status_code >= 500:
        return ProviderUnavailable(text, status_code=status_code, retry_after_s=retry_after_s)
    return ProviderResponseError(text, status_code=status_code)


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


async def _read_limited(response: httpx.Response, max_bytes: int, host: str) -> tuple[bytes, str]:
    """The body of a streamed download (at most ``max_bytes``) and its bare content type."""
    if not 200 <= response.status_code < 300:
        await response.aread()
        raise translate_status(response.status_code, response.content, response.headers, host=host)
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


def _build_client(
    timeout: httpx.Timeout,
    max_connections: int,
    proxy: str | None,
    transport: Transport | None,
) -> httpx.AsyncClient:
    """The one client: aiohttp underneath unless a test injects its transport.

    Proxies come from ``proxy`` or, with no transport injected, from the environment
    (HTTP(S)_PROXY / ALL_PROXY / NO_PROXY, as httpx reads them); certificates from certifi.
    """
    from httpx_aiohttp import HttpxAiohttpClient

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return HttpxAiohttpClient(
        timeout=timeout, limits=limits, proxy=proxy, transport=transport, trust_env=True
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
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"provider base_url {base_url!r} is unusable: expected http(s)://host[:port]"
            )
        self.host = parts.netloc
        self._auth_header = {"Authorization": check_header_value("API key", f"Bearer {api_key}")}
        self.total_timeout_s = total_timeout_s
        self.download_timeout_s = download_timeout_s
        timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=write_timeout_s, pool=None
        )
        self._client = _build_client(timeout, max(1, max_connections), proxy, transport)

    def __repr__(self) -> str:
        return f"GatewayClient(base_url={self.base_url!r}, api_key='****')"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

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
        headers = dict(self._auth_header)
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            async with asyncio.timeout(self.total_timeout_s):
                response = await self._client.request(
                    method, self.url(path), content=content, headers=headers
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
        return data

    async def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """Fetch ``url`` at once (no credentials unless it is on the gateway), bounded in size
        and in total time. Returns the body and its content type."""
        host = urlsplit(url).netloc or url
        headers = self._auth_header if host == self.host else {}
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
            raise translate_transport_error(exc, host=host) from None

    async def aclose(self) -> None:
        await self._client.aclose()
