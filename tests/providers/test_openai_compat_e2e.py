"""OpenAICompatProvider against the real loopback FakeOpenAIServer, one test per fault class."""

from __future__ import annotations

import asyncio
import email.utils
import io
import json

import pytest
from PIL import Image

from tests.fakes import FakeOpenAIServer, Fault
from tests.providers.conftest import gateway_settings
from tui_updater.errors import (
    InvalidOutput,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderTimeout,
    ProviderUnavailable,
)
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.limiter import GatewayLimiter
from tui_updater.providers.openai_compat import OpenAICompatProvider
from tui_updater.tasks.avatar_image import normalize_avatar

ALICE = {"id": "c1", "name": "Alice", "description": "A cheerful baker", "personality": "kind"}
BOB = {"id": "c2", "name": "Bob", "description": "A grumpy smith", "personality": "quiet"}
CHAT = "chat/completions"
IMAGES = "images/generations"


async def test_happy_path_mbti_settings_avatar(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    mbti = await fake_provider.assign_mbti(ALICE)
    assert mbti.value.mbti_type in MBTI_TYPES
    assert mbti.usage.requests == 1 and mbti.usage.prompt_tokens > 0
    settings = await fake_provider.write_settings(ALICE, ["fullDescription", "exampleDialogs"])
    assert len(json.loads(settings.value["exampleDialogs"])) >= 2
    avatar = await fake_provider.draw_avatar(ALICE, size_px=64)
    assert Image.open(io.BytesIO(normalize_avatar(avatar.value, 32))).size == (32, 32)
    assert [r.path for r in fake_server.requests] == ["/v1/chat/completions"] * 2 + [
        "/v1/images/generations"
    ]


async def test_rate_limit_with_and_without_retry_after(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    date = email.utils.formatdate(usegmt=True)
    fake_server.script(
        CHAT,
        [Fault.RATE_LIMIT_RETRY_AFTER(2), Fault.RATE_LIMIT, Fault.RATE_LIMIT_RETRY_AFTER(date)],
    )
    with pytest.raises(ProviderRateLimited) as first:
        await fake_provider.assign_mbti(ALICE)
    assert first.value.retry_after_s == 2.0
    with pytest.raises(ProviderRateLimited) as second:
        await fake_provider.assign_mbti(ALICE)
    assert second.value.retry_after_s is None
    with pytest.raises(ProviderRateLimited) as third:
        await fake_provider.assign_mbti(ALICE)
    assert third.value.retry_after_s is not None and third.value.retry_after_s <= 1.0
    assert (await fake_provider.assign_mbti(ALICE)).value.mbti_type in MBTI_TYPES


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.SERVER_ERROR, ProviderUnavailable),
        (Fault.UNAVAILABLE, ProviderUnavailable),
        (Fault.DISCONNECT, ProviderUnavailable),
        (Fault.MALFORMED_JSON, ProviderUnavailable),
        (Fault.QUOTA, ProviderQuotaExceeded),
        (Fault.BAD_REQUEST, ProviderResponseError),
        (Fault.UNAUTHORIZED, ProviderResponseError),
    ],
)
async def test_error_faults_translate(
    fake_provider: OpenAICompatProvider,
    fake_server: FakeOpenAIServer,
    fault: Fault,
    expected: type[Exception],
) -> None:
    fake_server.script(CHAT, [fault])
    with pytest.raises(expected):
        await fake_provider.assign_mbti(ALICE)


async def test_hang_past_read_timeout_is_provider_timeout(fake_server: FakeOpenAIServer) -> None:
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, read_timeout_s=0.2))
    fake_server.script(CHAT, [Fault.HANG_FOR(10)])
    with pytest.raises(ProviderTimeout):
        await provider.assign_mbti(ALICE)
    assert (await provider.assign_mbti(ALICE)).value.mbti_type in MBTI_TYPES
    await provider.aclose()


async def test_invalid_mbti_is_repaired_once_then_invalid_output(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(CHAT, [Fault.INVALID_MBTI], name="Alice")
    assert (await fake_provider.assign_mbti(ALICE)).usage.requests == 2
    fake_server.script(CHAT, [Fault.INVALID_MBTI, Fault.NOT_JSON_CONTENT], name="Bob")
    with pytest.raises(InvalidOutput):
        await fake_provider.assign_mbti(BOB)
    assert fake_server.count(CHAT, name="Alice") == 2
    assert fake_server.count(CHAT, name="Bob") == 2


async def test_wrong_fields_then_invalid_output(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(CHAT, [Fault.WRONG_FIELDS, Fault.WRONG_FIELDS])
    with pytest.raises(InvalidOutput, match="missing keys"):
        await fake_provider.write_settings(ALICE, ["scenario"])


async def test_fenced_json_is_fine(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(CHAT, [Fault.FENCED_JSON])
    assert (await fake_provider.assign_mbti(ALICE)).usage.requests == 1


async def test_json_schema_rejected_falls_back(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.reject_json_schema = True
    settings = await fake_provider.write_settings(ALICE, ["scenario", "speakingStyle"])
    assert set(settings.value) == {"scenario", "speakingStyle"}
    assert fake_provider.json_mode == "json_object"
    fake_server.reject_response_format = True
    mbti = await fake_provider.assign_mbti(BOB)
    assert mbti.value.mbti_type in MBTI_TYPES
    assert fake_provider.json_mode == "prompt"
    assert "response_format" not in fake_server.requests[-1].body


async def test_chinese_character_gets_chinese_settings(fake_provider: OpenAICompatProvider) -> None:
    character = {"id": "c3", "name": "小红", "description": "温柔的图书管理员"}
    settings = await fake_provider.write_settings(character, ["scenario", "exampleDialogs"])
    assert "小红" in settings.value["scenario"]


@pytest.mark.parametrize("fault", [Fault.IMAGE_URL, Fault.IMAGE_B64])
async def test_image_url_and_b64(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider, fault: Fault
) -> None:
    fake_server.script(IMAGES, [fault])
    avatar = await fake_provider.draw_avatar(ALICE, size_px=64)
    assert avatar.value.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        (Fault.WRONG_CONTENT_TYPE, r"not an image \(got text/html, [\d,]+ bytes\) from 127.0.0.1:"),
        (Fault.OVERSIZE_IMAGE(5000), "limit"),
        (Fault.NO_IMAGE, "data"),
    ],
)
async def test_image_faults_are_invalid_output(
    fake_server: FakeOpenAIServer, fault: Fault, match: str
) -> None:
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, max_image_bytes=4000))
    fake_server.script(IMAGES, [fault])
    with pytest.raises(InvalidOutput, match=match):
        await provider.draw_avatar(ALICE, size_px=64)
    await provider.aclose()


async def test_oversize_url_download_is_refused(fake_server: FakeOpenAIServer) -> None:
    fake_server.default_image_format = "url"
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, max_image_bytes=4000))
    fake_server.script(IMAGES, [Fault.OVERSIZE_IMAGE(5000)])
    with pytest.raises(InvalidOutput, match="limit"):
        await provider.draw_avatar(ALICE, size_px=64)
    await provider.aclose()


async def test_not_an_image_fails_normalisation(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(IMAGES, [Fault.NOT_AN_IMAGE])
    avatar = await fake_provider.draw_avatar(ALICE, size_px=64)
    with pytest.raises(InvalidOutput, match=r"not an image \(got text/html, 3\d bytes\)"):
        normalize_avatar(avatar.value, 64)


async def test_image_via_chat(fake_server: FakeOpenAIServer) -> None:
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, image_api="chat"))
    avatar = await provider.draw_avatar(ALICE, size_px=64)
    assert avatar.value.startswith(b"\x89PNG")
    assert fake_server.requests[-1].path == "/v1/chat/completions"
    fake_server.script(CHAT, [Fault.NO_IMAGE])
    with pytest.raises(InvalidOutput):
        await provider.draw_avatar(ALICE, size_px=64)
    await provider.aclose()


async def test_wrong_key_is_refused(fake_server: FakeOpenAIServer) -> None:
    fake_server.expected_key = "sk-other"
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url))
    with pytest.raises(ProviderResponseError) as caught:
        await provider.assign_mbti(ALICE)
    assert caught.value.status_code == 401
    await provider.aclose()


async def test_shared_limiter_bounds_in_flight_requests() -> None:
    async with FakeOpenAIServer(latency_s=0.02) as server:
        limiter = GatewayLimiter(max_in_flight=4)
        provider = OpenAICompatProvider(
            gateway_settings(server.base_url, max_in_flight=4, mbti_batch_size=1),
            limiter=limiter,
        )
        characters = [{"id": str(i), "name": f"Char{i}"} for i in range(24)]
        results = await asyncio.gather(*(provider.assign_mbti(c) for c in characters))
        assert len(results) == 24
        assert limiter.peak_in_flight == 4
        assert server.count(CHAT) == 24
        await provider.aclose()


def test_sync_start_stop_for_subprocess_tests() -> None:
    import httpx

    with FakeOpenAIServer() as server:
        response = httpx.get(f"{server.base_url}/models", headers={"Authorization": "Bearer k"})
        assert response.status_code == 200
        assert response.json()["object"] == "list"
        assert server.count("models") == 1
