"""Gateway answers that lie about success, against the loopback fake: errors inside HTTP 200,
error bodies in NewAPI's and OpenAI's shapes, HTML where JSON belongs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import FakeOpenAIServer
from tests.fakes.openai_server import Fault
from tests.tasks.test_online_faults import names_needing_mbti, online_settings
from tui_updater.core.models import ItemStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.errors import (
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnavailable,
    TransientError,
)
from tui_updater.providers.base import Character
from tui_updater.providers.openai_compat import OpenAICompatProvider
from tui_updater.runtime import Runtime

CHAT = "chat/completions"
ALICE: Character = {"id": "c1", "name": "Alice", "description": "A curious girl."}


def openai_error(message: str, error_type: str, code: str | None) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    ).encode()


@pytest.mark.parametrize(
    ("fault", "expected", "words"),
    [
        # NewAPI: HTTP 200 whose body is an error object
        (
            Fault.ERROR_IN_200("当前分组上游负载已饱和，请稍后再试", "", "new_api_error"),
            ProviderRateLimited,
            "饱和",
        ),
        (Fault.ERROR_IN_200("upstream overloaded", "overloaded_error"), ProviderRateLimited, ""),
        (
            Fault.ERROR_IN_200("user quota is not enough", "insufficient_user_quota"),
            ProviderQuotaExceeded,
            "[insufficient_user_quota]",
        ),
        (Fault.ERROR_IN_200("用户余额不足", ""), ProviderQuotaExceeded, "余额不足"),
        (Fault.ERROR_IN_200("invalid token", "invalid_api_key"), ProviderResponseError, "token"),
        (
            Fault.ERROR_IN_200("do request failed: EOF", "do_request_failed", "upstream_error"),
            ProviderUnavailable,
            "EOF",
        ),
        (Fault.ERROR_IN_200("model gpt-x not found", "model_not_found"), ProviderResponseError, ""),
        (Fault.RAW(200, b'{"success": false, "message": "token expired"}'), ProviderResponseError, ""),
        # OpenAI's shapes with their own statuses
        (
            Fault.RAW(429, openai_error("You exceeded your quota", "insufficient_quota", None)),
            ProviderQuotaExceeded,
            "exceeded your quota",
        ),
        (
            Fault.RAW(500, openai_error("failed to update user quota", "server_error", None)),
            ProviderUnavailable,
            "update user quota",
        ),
        (
            Fault.RAW(500, openai_error("The server is overloaded", "server_error", None)),
            ProviderRateLimited,
            "overloaded",
        ),
        (
            Fault.RAW(401, openai_error("Incorrect API key provided", "invalid_request_error", "invalid_api_key")),
            ProviderResponseError,
            "Incorrect API key",
        ),
        (
            Fault.RAW(400, openai_error("rate limit reached for requests", "requests", "rate_limit_exceeded")),
            ProviderRateLimited,
            "rate limit",
        ),
    ],
)  # fmt: skip
async def test_error_answers_are_classified_by_code_and_type(
    fake_server: FakeOpenAIServer,
    fake_provider: OpenAICompatProvider,
    fault: Fault,
    expected: type[Exception],
    words: str,
) -> None:
    fake_server.script(CHAT, [fault])
    with pytest.raises(expected) as caught:
        await fake_provider.write_settings(ALICE, ["scenario"])
    assert type(caught.value) is expected
    assert words in str(caught.value)
    assert "empty" not in str(caught.value)
    assert fake_server.count(CHAT) == 1  # surfaced at once: no repair round


async def test_a_200_error_names_the_gateways_message_and_code(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(
        CHAT, [Fault.ERROR_IN_200("user quota is not enough", "insufficient_user_quota")]
    )
    with pytest.raises(ProviderQuotaExceeded) as caught:
        await fake_provider.assign_mbti(ALICE)
    host = fake_provider.name
    assert str(caught.value) == (
        f"{host} answered chat/completions with HTTP 200 and an error: "
        "user quota is not enough [insufficient_user_quota]"
    )


async def test_a_200_error_about_response_format_still_falls_back(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    fake_server.script(
        CHAT,
        [Fault.ERROR_IN_200("response_format json_schema is not supported", "invalid_request")],
    )
    answer = await fake_provider.write_settings(ALICE, ["scenario"])
    assert answer.value["scenario"]
    assert fake_provider.json_mode == "json_object"


async def test_an_html_page_with_status_200_is_one_permanent_failure(
    fake_server: FakeOpenAIServer, fake_provider: OpenAICompatProvider
) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in - Portal</title></head><body></body></html>"
    fake_server.script(CHAT, [Fault.RAW(200, page, "text/html; charset=utf-8")])
    with pytest.raises(ProviderResponseError) as caught:
        await fake_provider.write_settings(ALICE, ["scenario"])
    assert not isinstance(caught.value, TransientError)
    assert "HTML page titled 'Sign in - Portal'" in str(caught.value)
    assert "provider.base_url" in str(caught.value)
    assert fake_server.count(CHAT) == 1


async def test_through_the_engine_a_steady_html_answer_costs_one_call_per_item(
    tmp_path: Path,
) -> None:
    page = b"<html><head><title>Login</title></head><body>please log in</body></html>"
    async with FakeOpenAIServer() as gateway:
        settings = online_settings(tmp_path, gateway.base_url)
        (char_id, name), (saturated_id, saturated_name) = names_needing_mbti(settings.db_path, 2)
        gateway.script(CHAT, [Fault.RAW(200, page, "text/html")] * 20, name=name)
        saturated = Fault.ERROR_IN_200("当前分组上游负载已饱和，请稍后再试", "")
        gateway.script(CHAT, [saturated, Fault.OK], name=saturated_name)
        runtime = await Runtime.open(settings, clock=FakeClock(), synchronous="NORMAL")
        try:
            task = await runtime.engine.submit(
                "MBTI_ASSIGNMENT", {"characterIds": [char_id, saturated_id]}
            )
            done = await runtime.engine.wait(task.task_id)
            items = {i.key: i for i in await runtime.engine.store.list_items(task.task_id)}
        finally:
            await runtime.close()
        html_calls = gateway.count(CHAT, name=name)
        saturated_calls = gateway.count(CHAT, name=saturated_name)
    failed = items[char_id]
    assert failed.status is ItemStatus.FAILED and not failed.retryable
    assert failed.error and "HTML page titled 'Login'" in failed.error
    assert html_calls == 1  # main: 15 (5 item attempts x 3 task attempts), no repair either
    assert done.attempt == 1  # a permanent failure: the task is not run again for it
    assert items[saturated_id].status is ItemStatus.DONE  # push-back in a 200: waited, retried
    assert saturated_calls == 2
