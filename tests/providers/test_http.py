"""The HTTP edge: base URL, Retry-After, error translation per status class, key masking."""

from __future__ import annotations

import email.utils
import json
import logging
import time

import httpx
import pytest

from tests.providers.conftest import TEST_KEY
from tui_updater.errors import (
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
    TransientError,
)
from tui_updater.providers.gateway_errors import parse_retry_after
from tui_updater.providers.http import GatewayClient, normalise_base_url


def newapi_error(
    status: int, message: str, code: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"error": {"message": message, "type": "new_api_error", "param": "", "code": code}}
    return httpx.Response(status, json=body, headers=headers)


def client_for(response: httpx.Response | Exception) -> GatewayClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    return GatewayClient("http://gw.test/", TEST_KEY, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.example.com", "https://api.example.com/v1"),
        ("https://api.example.com/", "https://api.example.com/v1"),
        ("https://api.example.com/v1/", "https://api.example.com/v1"),
        ("https://host/proxy/v1", "https://host/proxy/v1"),
        ("api.example.com", "https://api.example.com/v1"),
    ],
)
def test_base_url_is_normalised_to_v1(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


def test_retry_after_seconds_date_and_absent() -> None:
    now_s = 1_700_000_000.0
    date = email.utils.formatdate(now_s + 30, usegmt=True)
    assert parse_retry_after("7", now_s=now_s) == 7.0
    assert parse_retry_after("1.5", now_s=now_s) == 1.5
    assert parse_retry_after(date, now_s=now_s) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now_s - 30, usegmt=True), now_s=now_s) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


async def test_429_with_retry_after_seconds() -> None:
    client = client_for(newapi_error(429, "slow down", "rate_limit", {"Retry-After": "3"}))
    with pytest.raises(ProviderRateLimited) as caught:
        await client.post_json("chat/completions", {})
    assert caught.value.retry_after_s == 3.0
    assert "slow down" in str(caught.value)


async def test_429_with_retry_after_http_date() -> None:
    future = email.utils.formatdate(usegmt=True, timeval=time.time() + 120)
    client = client_for(newapi_error(429, "busy", headers={"Retry-After": future}))
    with pytest.raises(ProviderRateLimited) as caught:
        await client.post_json("chat/completions", {})
    assert caught.value.retry_after_s is not None
    assert 100 < caught.value.retry_after_s <= 120


async def test_429_without_retry_after_has_no_delay() -> None:
    client = client_for(newapi_error(429, "当前分组上游负载已饱和"))
    with pytest.raises(ProviderRateLimited) as caught:
        await client.post_json("chat/completions", {})
    assert caught.value.retry_after_s is None
    assert "当前分组上游负载已饱和" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_unavailable(status: int) -> None:
    client = client_for(newapi_error(status, "upstream error"))
    with pytest.raises(ProviderUnavailable) as caught:
        await client.post_json("chat/completions", {})
    assert caught.value.status_code == status
    assert isinstance(caught.value, TransientError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_4xx_is_response_error_with_status(status: int) -> None:
    client = client_for(newapi_error(status, "model gpt-9 not found", "model_not_found"))
    with pytest.raises(ProviderResponseError) as caught:
        await client.post_json("chat/completions", {})
    assert caught.value.status_code == status
    assert "model gpt-9 not found" in str(caught.value)


@pytest.mark.parametrize(
    "response",
    [
        newapi_error(403, "用户额度不足", "insufficient_user_quota"),
        newapi_error(429, "You exceeded your current quota", "insufficient_quota"),
        newapi_error(400, "token quota is not enough"),
        httpx.Response(402, text="payment required"),
    ],
)
async def test_quota_errors(response: httpx.Response) -> None:
    with pytest.raises(ProviderQuotaExceeded):
        await client_for(response).post_json("chat/completions", {})


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("connect timed out"), ProviderTimeout),
        (httpx.ReadTimeout("read timed out"), ProviderTimeout),
        (httpx.ConnectError("refused"), ProviderUnavailable),
        (httpx.RemoteProtocolError("peer closed"), ProviderUnavailable),
    ],
)
async def test_transport_errors(exc: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        await client_for(exc).post_json("chat/completions", {})


async def test_non_json_success_body_is_unavailable() -> None:
    client = client_for(httpx.Response(200, text='{"choices": [ truncated'))
    with pytest.raises(ProviderUnavailable, match="not JSON"):
        await client.post_json("chat/completions", {})


async def test_html_success_body_is_a_permanent_base_url_problem() -> None:
    page = "<!DOCTYPE html><html><head><title>My Site</title></head><body>hi</body></html>"
    client = client_for(httpx.Response(200, text=page))
    with pytest.raises(ProviderResponseError, match=r"HTML page titled 'My Site'.*base_url"):
        await client.post_json("chat/completions", {})


async def test_bearer_key_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    caplog.set_level(logging.DEBUG)
    client = GatewayClient("http://gw.test", TEST_KEY, transport=httpx.MockTransport(handler))
    assert await client.post_json("/chat/completions", {"a": 1}) == {"ok": True}
    assert seen[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert str(seen[0].url) == "http://gw.test/v1/chat/completions"
    assert json.loads(seen[0].content) == {"a": 1}
    assert TEST_KEY not in repr(client)
    assert TEST_KEY not in caplog.text
    await client.aclose()


async def test_download_sends_no_key_to_other_hosts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"png", headers={"content-type": "image/png"})

    client = GatewayClient("http://gw.test", TEST_KEY, transport=httpx.MockTransport(handler))
    body, content_type = await client.download("http://cdn.test/a.png", max_bytes=100)
    assert (body, content_type) == (b"png", "image/png")
    assert "authorization" not in seen[0].headers
    await client.aclose()
