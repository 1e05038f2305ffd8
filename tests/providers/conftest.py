"""Fixtures for provider tests: settings, a loopback fake gateway, providers bound to either."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.fakes import FakeOpenAIServer
from tui_updater.config import ProviderSettings
from tui_updater.providers.openai_compat import OpenAICompatProvider

TEST_KEY = "sk-test-secret-key-0123456789"


def gateway_settings(base_url: str = "http://gateway.test", **overrides: Any) -> ProviderSettings:
    """ProviderSettings for a test gateway (short timeouts, no rate limit)."""
    base = ProviderSettings(
        base_url=base_url,
        api_key=TEST_KEY,
        chat_model="gpt-4o-mini",
        image_model="nano-banana",
        requests_per_minute=0,
        connect_timeout_s=2.0,
        read_timeout_s=2.0,
    )
    return base.model_copy(update=overrides)


def mock_provider(
    handler: Callable[[httpx.Request], httpx.Response], **overrides: Any
) -> OpenAICompatProvider:
    """A provider whose HTTP goes to ``handler`` through httpx.MockTransport."""
    return OpenAICompatProvider(
        gateway_settings(**overrides), transport=httpx.MockTransport(handler)
    )


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeOpenAIServer]:
    async with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
async def fake_provider(fake_server: FakeOpenAIServer) -> AsyncIterator[OpenAICompatProvider]:
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url))
    yield provider
    await provider.aclose()
