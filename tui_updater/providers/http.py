"""The HTTP edge of the OpenAI-compatible provider: sharded httpx clients, error translation.

The only module of ``providers`` that imports httpx; everything it raises is a
``tui_updater.errors`` class, never an httpx exception.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tui_updater.errors import (
    InvalidOutput,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)
from tui_updater.providers.wire import WireClient, WireError

Transport = httpx.AsyncBaseTransport
MockTransport = httpx.MockTransport

QUOTA_CODES = frozenset({"insufficient_user_quota", "insufficient_quota", "quota_exceeded"})
_MESSAGE_LIMIT_CHARS = 300


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
    """The tui_updater.errors exception for a non-2xx gateway answer."""
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
    if status_code == 429:
        return ProviderRateLimited(text, retry_after_s=retry_after_s)
    if status_code >= 500:
        return ProviderUnavailable(text, status_code=status_code, retry_after_s=retry_after_s)
    return ProviderResponseError(text, status_code=status_code)


def translate_transport_error(exc: httpx.HTTPError, *, host: str) -> Exception:
    """The tui_updater.errors exception for an httpx transport failure."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"{kind} talking to {host}")
    return ProviderUnavailable(f"{kind} talking to {host}: {exc}".rstrip(": "))


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


def _proxy_configured() -> bool:
    names = ("http_proxy", "https_proxy", "all_proxy")
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in names)


class GatewayClient:
    """JSON requests to one gateway.

    POSTs (every chat and image call) go through the lean keep-alive client of ``wire.py``;
    GETs, downloads, proxied setups and injected test transports use httpx. httpx's pool costs
    O(pool²) per request, so its ``max_in_flight`` requests are spread over
    ``ceil(max_in_flight / pool_size)`` clients of ``pool_size`` connections.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 180.0,
        write_timeout_s: float = 30.0,
        max_in_flight: int = 8,
        pool_size: int = 16,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self._auth_header = {"Authorization": f"Bearer {api_key}"}
        pool = max(1, pool_size)
        shard_count = max(1, math.ceil(max(1, max_in_flight) / pool))
        timeout = httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=write_timeout_s, pool=None
        )
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        self._clients = [
            httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport)
            for _ in range(shard_count)
        ]
        self._shard_load = [0] * shard_count  # requests in flight per client
        lean = transport is None and not _proxy_configured()
        self._wire = (
            WireClient(
                self.base_url,
                connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s,
                max_idle=max(1, max_in_flight),
            )
            if lean
            else None
        )

    def __repr__(self) -> str:
        return (
            f"GatewayClient(base_url={self.base_url!r}, api_key='****', shards={self.shard_count})"
        )

    @property
    def shard_count(self) -> int:
        return len(self._clients)

    @contextlib.contextmanager
    def _client(self) -> Iterator[httpx.AsyncClient]:
        """The least-loaded client, so no pool ever queues while the limiter holds the total.

        (A queued httpcore pool hands one idle connection to several waiters, which then
        retry: the cost measured in peer-baselines.md section 3.)
        """
        load = self._shard_load
        index = load.index(min(load))
        load[index] += 1
        try:
            yield self._clients[index]
        finally:
            load[index] -= 1

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``base_url/path``; the decoded JSON object of a 2xx answer."""
        if self._wire is None:
            return await self._request_json("POST", path, body)
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            response = await self._wire.post(path, payload, self._auth_header)
        except WireError as exc:
            if exc.timeout:
                raise ProviderTimeout(f"{exc}") from None
            raise ProviderUnavailable(str(exc)) from None
        return self._decode(path, response.status_code, response.content, response.headers)

    async def get_json(self, path: str) -> dict[str, Any]:
        """GET ``base_url/path``; the decoded JSON object of a 2xx answer."""
        return await self._request_json("GET", path, None)

    async def _request_json(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        try:
            with self._client() as client:
                response = await client.request(
                    method, self.url(path), json=body, headers=self._auth_header
                )
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, host=self.host) from None
        return self._decode(path, response.status_code, response.content, response.headers)

    def _decode(
        self, path: str, status_code: int, content: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The JSON object of a 2xx answer; the typed error otherwise."""
        if not 200 <= status_code < 300:
            raise translate_status(status_code, content, headers, host=self.host)
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
        """Fetch ``url`` at once (no credentials unless it is on the gateway), size-limited.

        Returns the body and its content type; an oversize body is InvalidOutput.
        """
        host = urlsplit(url).netloc or url
        headers = self._auth_header if host == self.host else {}
        try:
            with self._client() as client:
                async with client.stream("GET", url, headers=headers) as response:
                    return await _read_limited(response, max_bytes, host)
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, host=host) from None
        except httpx.InvalidURL:
            raise InvalidOutput(
                f"the gateway returned an unusable image URL {url[:80]!r}"
            ) from None

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
        for client in self._clients:
            await client.aclose()
