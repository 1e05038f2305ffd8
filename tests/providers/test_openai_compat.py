"""OpenAICompatProvider over httpx.MockTransport: JSON-mode fallback, repair, images, usage."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.providers.conftest import TEST_KEY, mock_provider
from tui_updater.errors import InvalidOutput, ProviderResponseError
from tui_updater.providers.base import MBTI_TYPES

ALICE = {
    "id": "c1",
    "name": "Alice",
    "description": "A cheerful baker",
    "personality": "kind, outgoing",
}


def png_bytes(size_px: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size_px, size_px), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def chat_response(
    content: str, prompt_tokens: int = 10, completion_tokens: int = 5
) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        },
    )


def scripted(
    responses: list[httpx.Response],
) -> tuple[Callable[[httpx.Request], httpx.Response], list[Any]]:
    """A handler answering ``responses`` in order, and the list of JSON bodies it received."""
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content) if request.content else None)
        return responses[len(bodies) - 1]

    return handler, bodies


MBTI_OK = json.dumps({"mbtiType": "ENFJ", "confidence": 0.9, "reason": "warm and outgoing"})


async def test_mbti_uses_strict_json_schema_and_sums_usage() -> None:
    handler, bodies = scripted([chat_response(MBTI_OK, 12, 7)])
    provider = mock_provider(handler)
    generated = await provider.assign_mbti(ALICE)
    assert generated.value.mbti_type == "ENFJ"
    assert (
        generated.usage.prompt_tokens,
        generated.usage.completion_tokens,
        generated.usage.requests,
    ) == (12, 7, 1)
    assert generated.model == "gpt-4o-mini" and not generated.offline
    response_format = bodies[0]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["properties"]["mbtiType"]["enum"] == list(
        MBTI_TYPES
    )
    await provider.aclose()


async def test_fenced_answer_is_accepted_without_repair() -> None:
    handler, bodies = scripted([chat_response(f"Sure:\n```json\n{MBTI_OK}\n```")])
    generated = await mock_provider(handler).assign_mbti(ALICE)
    assert generated.value.mbti_type == "ENFJ"
    assert len(bodies) == 1


async def test_schema_rejection_falls_back_to_json_object_then_prompt() -> None:
    rejected = httpx.Response(
        400, json={"error": {"message": "response_format json_schema not supported"}}
    )
    rejected_object = httpx.Response(
        400, json={"error": {"message": "json_object is not supported"}}
    )
    handler, bodies = scripted(
        [rejected, rejected_object, chat_response(MBTI_OK), chat_response(MBTI_OK)]
    )
    provider = mock_provider(handler)
    generated = await provider.assign_mbti(ALICE)
    assert generated.value.mbti_type == "ENFJ"
    assert generated.usage.requests == 3
    assert bodies[0]["response_format"]["type"] == "json_schema"
    assert bodies[1]["response_format"] == {"type": "json_object"}
    assert "response_format" not in bodies[2]
    assert "JSON Schema" in bodies[2]["messages"][-1]["content"]
    # The provider remembers: the next call goes straight to the prompt mode.
    await provider.assign_mbti(ALICE)
    assert "response_format" not in bodies[3]
    assert provider.json_mode == "prompt"


async def test_unrelated_400_is_not_a_fallback() -> None:
    handler, bodies = scripted(
        [httpx.Response(400, json={"error": {"message": "model not found"}})]
    )
    with pytest.raises(ProviderResponseError) as caught:
        await mock_provider(handler).assign_mbti(ALICE)
    assert caught.value.status_code == 400
    assert len(bodies) == 1


async def test_invalid_answer_gets_one_repair_with_the_error() -> None:
    bad = json.dumps({"mbtiType": "XXXX", "confidence": 0.5, "reason": "?"})
    handler, bodies = scripted([chat_response(bad), chat_response(MBTI_OK)])
    generated = await mock_provider(handler).assign_mbti(ALICE)
    assert generated.value.mbti_type == "ENFJ"
    assert generated.usage.requests == 2
    repair = bodies[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": bad}
    assert "XXXX" in repair[-1]["content"] and "not valid" in repair[-1]["content"]


async def test_answer_still_invalid_after_repair_is_invalid_output() -> None:
    handler, bodies = scripted([chat_response("no idea"), chat_response("still no idea")])
    with pytest.raises(InvalidOutput, match="after a repair attempt"):
        await mock_provider(handler).assign_mbti(ALICE)
    assert len(bodies) == 2


async def test_settings_returns_exactly_the_fields_with_dialogs_as_json_string() -> None:
    answer = {
        "scenario": "You meet Alice in her bakery.",
        "exampleDialogs": [
            {"user": "Hi", "character": "Welcome!"},
            {"user": "Bread?", "character": "Fresh!"},
        ],
    }
    handler, bodies = scripted([chat_response(json.dumps(answer))])
    generated = await mock_provider(handler).write_settings(ALICE, ["scenario", "exampleDialogs"])
    assert set(generated.value) == {"scenario", "exampleDialogs"}
    assert json.loads(generated.value["exampleDialogs"]) == answer["exampleDialogs"]
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["scenario", "exampleDialogs"]
    assert "English" in bodies[0]["messages"][0]["content"]


async def test_chinese_character_asks_for_chinese_and_rejects_english() -> None:
    character = {
        "id": "c2",
        "name": "小明",
        "description": "一个开朗的高中生",
        "personality": "热情",
    }
    english = json.dumps({"scenario": "You meet Xiaoming at school."})
    chinese = json.dumps({"scenario": "你在学校遇见了小明。"})
    handler, bodies = scripted([chat_response(english), chat_response(chinese)])
    generated = await mock_provider(handler).write_settings(character, ["scenario"])
    assert generated.value == {"scenario": "你在学校遇见了小明。"}
    assert "Chinese" in bodies[0]["messages"][0]["content"]
    assert "not written in Chinese" in bodies[1]["messages"][-1]["content"]


async def test_image_b64_answer() -> None:
    image = png_bytes()
    handler, bodies = scripted(
        [httpx.Response(200, json={"data": [{"b64_json": base64.b64encode(image).decode()}]})]
    )
    generated = await mock_provider(handler).draw_avatar(ALICE | {"mbtiType": "ENFJ"}, size_px=512)
    assert generated.value == image
    assert generated.model == "nano-banana"
    body = bodies[0]
    assert (body["model"], body["n"], body["size"], body["response_format"]) == (
        "nano-banana",
        1,
        "512x512",
        "b64_json",
    )
    assert (
        body["prompt"].startswith("Portrait of Alice")
        and "warm encouraging smile" in body["prompt"]
    )


async def test_image_size_for_fixed_size_models_and_no_response_format_for_gpt_image() -> None:
    image = base64.b64encode(png_bytes()).decode()
    handler, bodies = scripted([httpx.Response(200, json={"data": [{"b64_json": image}]})])
    await mock_provider(handler, image_model="gpt-image-1").draw_avatar(ALICE, size_px=512)
    assert bodies[0]["size"] == "1024x1024"
    assert "response_format" not in bodies[0]


async def test_image_url_is_downloaded_without_the_key() -> None:
    image = png_bytes()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "cdn.test":
            return httpx.Response(200, content=image, headers={"content-type": "image/png"})
        return httpx.Response(200, json={"data": [{"url": "https://cdn.test/a.png"}]})

    generated = await mock_provider(handler).draw_avatar(ALICE, size_px=256)
    assert generated.value == image
    assert seen[1].headers.get("authorization") is None
    assert seen[0].headers["authorization"] == f"Bearer {TEST_KEY}"


@pytest.mark.parametrize(
    ("file_response", "match"),
    [
        (
            httpx.Response(200, content=b"<html/>", headers={"content-type": "text/html"}),
            "not an image",
        ),
        (httpx.Response(200, content=b"x" * 2000, headers={"content-type": "image/png"}), "limit"),
    ],
)
async def test_image_url_limits(file_response: httpx.Response, match: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return file_response
        return httpx.Response(200, json={"data": [{"url": "https://cdn.test/a.png"}]})

    with pytest.raises(InvalidOutput, match=match):
        await mock_provider(handler, max_image_bytes=1000).draw_avatar(ALICE, size_px=256)


@pytest.mark.parametrize(
    "payload",
    [{"data": []}, {"data": [{"revised_prompt": "x"}]}, {"data": [{"b64_json": "!!not base64!!"}]}],
)
async def test_unusable_image_answers_are_invalid_output(payload: dict[str, Any]) -> None:
    handler, _ = scripted([httpx.Response(200, json=payload)])
    with pytest.raises(InvalidOutput):
        await mock_provider(handler).draw_avatar(ALICE, size_px=256)


async def test_image_via_chat_extracts_the_data_url() -> None:
    image = png_bytes()
    content = f"Here it is\n![image](data:image/png;base64,{base64.b64encode(image).decode()})"
    handler, bodies = scripted([chat_response(content)])
    generated = await mock_provider(handler, image_api="chat").draw_avatar(ALICE, size_px=256)
    assert generated.value == image
    assert bodies[0]["model"] == "nano-banana"
    assert generated.usage.requests == 1


async def test_image_via_chat_without_an_image_is_invalid_output() -> None:
    handler, _ = scripted([chat_response("I can't draw.")])
    with pytest.raises(InvalidOutput, match="no image"):
        await mock_provider(handler, image_api="chat").draw_avatar(ALICE, size_px=256)


def test_describe_and_repr_never_show_the_key() -> None:
    provider = mock_provider(lambda request: httpx.Response(200))
    description = provider.describe()
    assert description == {
        "name": "gateway.test",
        "online": True,
        "chatModel": "gpt-4o-mini",
        "imageModel": "nano-banana",
        "baseUrl": "gateway.test",
    }
    assert TEST_KEY not in repr(provider) and TEST_KEY not in json.dumps(description)
