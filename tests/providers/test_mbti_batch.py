"""MBTI micro-batching in the OpenAI-compatible provider, against the loopback fake gateway."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes import FakeOpenAIServer, Fault
from tests.providers.conftest import gateway_settings
from tui_updater.core.models import TokenUsage
from tui_updater.errors import ProviderUnavailable
from tui_updater.providers.answers import AnswerError, validate_mbti_batch
from tui_updater.providers.base import MBTI_TYPES
from tui_updater.providers.openai_compat import OpenAICompatProvider

CHAT = "chat/completions"


def cast(count: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"c{i}",
            "name": f"Hero{i}",
            "description": f"A wandering knight number {i} who guards the northern pass.",
            "personality": "steady, loyal, quiet, plans every step",
        }
        for i in range(count)
    ]


async def assign_all(provider: OpenAICompatProvider, characters: list[dict[str, str]]) -> list:
    return await asyncio.gather(*(provider.assign_mbti(c) for c in characters))


async def test_concurrent_calls_share_requests_and_usage_adds_up(
    fake_server: FakeOpenAIServer,
) -> None:
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, mbti_batch_size=10))
    answers = await assign_all(provider, cast(25))
    await provider.aclose()
    assert fake_server.count(CHAT) == 3  # 10 + 10 + 5
    assert all(a.value.mbti_type in MBTI_TYPES for a in answers)
    assert [a.value.reason for a in answers] == [
        f"fake gateway verdict for Hero{i}" for i in range(25)
    ]  # each answer went back to the character it belongs to
    total = sum((a.usage for a in answers), TokenUsage())
    assert total.requests == 3 and total.prompt_tokens > 0


async def test_a_bad_answer_in_a_batch_is_asked_again_alone(fake_server: FakeOpenAIServer) -> None:
    fake_server.script(CHAT, [Fault.INVALID_MBTI], name="Hero3")
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, mbti_batch_size=8))
    answers = await assign_all(provider, cast(8))
    await provider.aclose()
    assert all(a.value.mbti_type in MBTI_TYPES for a in answers)
    assert fake_server.count(CHAT) == 2  # the batch, then Hero3 alone
    alone = fake_server.requests[-1].body["messages"]
    assert "Hero3" in alone[1]["content"] and "Batch:" not in alone[0]["content"]
    assert answers[3].usage.requests == 1  # its own request, plus its share of the batch


async def test_a_failed_batch_request_fails_every_caller_transiently(
    fake_server: FakeOpenAIServer,
) -> None:
    fake_server.script(CHAT, [Fault.SERVER_ERROR])
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, mbti_batch_size=4))
    results = await asyncio.gather(
        *(provider.assign_mbti(c) for c in cast(4)), return_exceptions=True
    )
    await provider.aclose()
    assert all(isinstance(r, ProviderUnavailable) for r in results)
    assert fake_server.count(CHAT) == 1


async def test_batched_mbti_spends_at_most_half_the_tokens_per_character() -> None:
    per_character: dict[int, float] = {}
    for batch_size in (1, 10):
        async with FakeOpenAIServer() as server:
            provider = OpenAICompatProvider(
                gateway_settings(server.base_url, mbti_batch_size=batch_size)
            )
            answers = await assign_all(provider, cast(40))
            await provider.aclose()
        total = sum((a.usage for a in answers), TokenUsage())
        per_character[batch_size] = total.total_tokens / 40
    assert per_character[10] <= 0.5 * per_character[1], per_character


def test_batch_answers_are_checked_per_character() -> None:
    good = {"mbtiType": "INTJ", "confidence": 0.7, "reason": "plans ahead"}
    verdicts = validate_mbti_batch(
        {
            "answers": [
                {"ref": 1, **good},
                {"ref": "2", **good, "mbtiType": "XXXX"},
                {"ref": 4, **good},
                {"ref": 4, **good},
                {"ref": 9, **good},
            ]
        },
        4,
    )
    assert verdicts[1].mbti_type == "INTJ"  # type: ignore[union-attr]
    assert all(isinstance(verdicts[ref], AnswerError) for ref in (2, 3, 4))
    with pytest.raises(AnswerError):
        validate_mbti_batch({"answer": []}, 2)


async def test_the_lane_counts_what_every_answer_cost_as_it_comes(
    fake_server: FakeOpenAIServer,
) -> None:
    prices = {"gpt-4o-mini": {"input": 1.0, "output": 2.0}}
    provider = OpenAICompatProvider(gateway_settings(fake_server.base_url, prices=prices))
    answers = await assign_all(provider, cast(12))
    spent = provider.gateway_state()["spent"]
    await provider.aclose()
    total = sum((a.usage for a in answers), TokenUsage())
    assert (spent["totalTokens"], spent["requests"]) == (total.total_tokens, total.requests)
    expected = (total.prompt_tokens * 1.0 + total.completion_tokens * 2.0) / 1_000_000
    assert spent["cost"] == pytest.approx(expected, abs=1e-6)
