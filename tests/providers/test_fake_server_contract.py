"""The fake gateway's happy-path answers parse with the official openai client."""

from __future__ import annotations

import base64
import json

import openai
import pytest

from tests.fakes import FakeOpenAIServer, Fault


@pytest.fixture
async def client(fake_server: FakeOpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake_server.base_url, api_key="sk-fake", max_retries=0)


async def test_chat_completion_parses(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Task: MBTI_ASSIGNMENT\nAnswer in JSON."},
            {"role": "user", "content": "Character:\nName: Alice"},
        ],
        response_format={"type": "json_object"},
    )
    assert completion.model == "gpt-4o-mini"
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    content = completion.choices[0].message.content
    assert content is not None and json.loads(content)["mbtiType"]
    assert completion.usage is not None and completion.usage.prompt_tokens > 0


async def test_settings_answer_follows_the_json_schema_keys(client: openai.AsyncOpenAI) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"scenario": {"type": "string"}},
        "required": ["scenario"],
    }
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Task: CHARACTER_SETTINGS\nKeys: scenario"},
            {"role": "user", "content": "Character:\nName: Bob"},
        ],
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
    )
    assert set(json.loads(completion.choices[0].message.content or "{}")) == {"scenario"}


async def test_images_b64_and_url_parse(
    client: openai.AsyncOpenAI, fake_server: FakeOpenAIServer
) -> None:
    result = await client.images.generate(
        model="nano-banana",
        prompt="Portrait of Alice",
        n=1,
        size="256x256",
        response_format="b64_json",
    )
    assert result.data is not None
    assert base64.b64decode(result.data[0].b64_json or "").startswith(b"\x89PNG")
    fake_server.script("images/generations", [Fault.IMAGE_URL])
    result = await client.images.generate(
        model="nano-banana", prompt="Portrait of Alice", n=1, size="256x256"
    )
    assert result.data is not None and (result.data[0].url or "").startswith(
        fake_server.base_url.removesuffix("/v1")
    )


async def test_models_list_and_errors_parse(
    client: openai.AsyncOpenAI, fake_server: FakeOpenAIServer
) -> None:
    models = await client.models.list()
    assert [m.id for m in models.data] == ["gpt-4o-mini", "nano-banana"]
    fake_server.script("chat/completions", [Fault.RATE_LIMIT_RETRY_AFTER(1)])
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.response.headers["retry-after"] == "1"


@pytest.mark.slow
async def test_fake_runs_in_a_child_process() -> None:
    from tests.fakes import FakeOpenAIProcess

    with FakeOpenAIProcess(latency_s=0.0) as process:
        client = openai.AsyncOpenAI(base_url=process.base_url, api_key="sk-fake", max_retries=0)
        models = await client.models.list()
        assert "gpt-4o-mini" in [m.id for m in models.data]
        await client.close()
