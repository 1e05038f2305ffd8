"""ContentProvider over an OpenAI-compatible gateway (NewAPI, OpenAI…): chat JSON and images."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

from tui_updater.core.models import TokenUsage
from tui_updater.core.pricing import cost_of
from tui_updater.errors import InvalidOutput, ProviderResponseError
from tui_updater.providers import prompts
from tui_updater.providers.answers import (
    AnswerError,
    extract_json,
    validate_mbti,
    validate_mbti_batch,
    validate_settings,
)
from tui_updater.providers.base import Character, Generated, MbtiAnswer
from tui_updater.providers.batching import MicroBatcher
from tui_updater.providers.http import GatewayClient, is_push_back
from tui_updater.providers.language import character_language
from tui_updater.providers.limiter import GatewayLimiter

if TYPE_CHECKING:
    from tui_updater.config import ProviderSettings
    from tui_updater.providers.http import Transport

T = TypeVar("T")
JsonMode = Literal["json_schema", "json_object", "prompt"]
_JSON_MODES: tuple[JsonMode, ...] = ("json_schema", "json_object", "prompt")
_FORMAT_REJECTED = re.compile(
    r"response_format|json_schema|json_object|structured output|schema", re.I
)
_DATA_IMAGE = re.compile(r"data:image/[a-zA-Z0-9.+-]+;base64,([A-Za-z0-9+/=\s]+)")
_MARKDOWN_IMAGE_URL = re.compile(r"!\[[^\]]*\]\((https?://[^)\s]+)\)")
_FIXED_SIZE_MODELS = ("dall-e-3", "gpt-image")
MBTI_BATCH_WINDOW_S = 0.005  # how long an MBTI call waits for others to share its request
MbtiFuture = asyncio.Future[Generated[MbtiAnswer]]


def _usage_of(response: dict[str, Any]) -> TokenUsage:
    usage = response.get("usage")
    if not isinstance(usage, dict):
        return TokenUsage(requests=1)

    def count(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return TokenUsage(count("prompt_tokens"), count("completion_tokens"), 1)


def _message_content(response: dict[str, Any]) -> str:
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "\n".join(str(part.get("text") or "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _shares(usage: TokenUsage, count: int) -> list[TokenUsage]:
    """``usage`` split over ``count`` characters; the parts add up to the whole."""
    prompt, prompt_rest = divmod(usage.prompt_tokens, count)
    completion, completion_rest = divmod(usage.completion_tokens, count)
    return [
        TokenUsage(
            prompt + (prompt_rest if index == 0 else 0),
            completion + (completion_rest if index == 0 else 0),
            usage.requests if index == 0 else 0,
        )
        for index in range(count)
    ]


def _decode_b64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidOutput("the gateway returned image data that is not valid base64") from None


class OpenAICompatProvider:
    """Talks to ``settings.base_url`` with ``settings.api_key`` through one shared limiter."""

    online = True

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        transport: Transport | None = None,
        limiter: GatewayLimiter | None = None,
    ) -> None:
        if not settings.base_url or not settings.api_key:
            raise ValueError("OpenAICompatProvider needs provider.base_url and provider.api_key")
        self.settings = settings
        self.chat_model = settings.chat_model
        self.image_model = settings.image_model
        self._gateway = GatewayClient(
            settings.base_url,
            settings.api_key,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            total_timeout_s=settings.total_timeout_s,
            download_timeout_s=settings.download_timeout_s,
            max_connections=settings.max_in_flight,
            proxy=settings.proxy,
            transport=transport,
            allow_image_hosts=settings.allow_image_hosts,
        )
        self.name = self._gateway.host
        self.limiter = limiter or GatewayLimiter(
            settings.max_in_flight, settings.requests_per_minute, is_push_back=is_push_back
        )
        self._mbti_batcher: MicroBatcher[Character, Generated[MbtiAnswer]] = MicroBatcher(
            self._mbti_batch, max_size=settings.mbti_batch_size, window_s=MBTI_BATCH_WINDOW_S
        )
        self.json_mode: JsonMode = "json_schema"
        self._spent = TokenUsage()  # every answer since start, all tasks
        self._spent_cost = 0.0
        self._image_response_format = True

    def __repr__(self) -> str:
        return f"OpenAICompatProvider(host={self.name!r}, chat_model={self.chat_model!r}, api_key='****')"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "online": True,
            "chatModel": self.chat_model,
            "imageModel": self.image_model,
            "baseUrl": self.name,
        }

    def gateway_state(self) -> dict[str, Any]:
        """The lane's state for status displays (in flight, limit, backing off…) and what the
        gateway's answers cost since start (tokens; money when prices are configured)."""
        spent: dict[str, Any] = self._spent.to_json()
        spent["cost"] = round(self._spent_cost, 6) if self.settings.prices else None
        return {**self.limiter.state().to_json(), "spent": spent}

    async def aclose(self) -> None:
        await self._mbti_batcher.aclose()
        await self._gateway.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.limiter.slot():
            response = await self._gateway.post_json(path, body)
        self._spent += _usage_of(response)
        cost = cost_of(_usage_of(response), self.settings.prices.get(str(body.get("model"))))
        if cost is not None:
            self._spent_cost += cost
        return response

    # --- chat JSON ----------------------------------------------------------------------------

    def _downgrade_json_mode(self, rejected: JsonMode) -> bool:
        """Move past ``rejected``; False when there is nothing left to fall back to."""
        index = _JSON_MODES.index(rejected)
        if index + 1 >= len(_JSON_MODES):
            return False
        if _JSON_MODES.index(self.json_mode) <= index:
            self.json_mode = _JSON_MODES[index + 1]
        return True

    def _chat_body(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        schema_name: str,
        mode: JsonMode,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.chat_model, "messages": messages, "temperature": 0.7}
        if mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "strict": True, "schema": schema},
            }
        elif mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        if mode != "json_schema":  # without a schema, the prompt must carry it
            body["messages"] = [
                *messages,
                {"role": "user", "content": prompts.schema_in_prompt(schema)},
            ]
        return body

    async def _chat_once(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[str, TokenUsage]:
        """One chat answer, falling back json_schema → json_object → prompt when refused."""
        usage = TokenUsage()
        while True:
            mode = self.json_mode
            try:
                response = await self._post(
                    "chat/completions", self._chat_body(messages, schema, schema_name, mode)
                )
            except ProviderResponseError as exc:
                refused = exc.status_code in (400, 422) and _FORMAT_REJECTED.search(str(exc))
                if mode != "prompt" and refused and self._downgrade_json_mode(mode):
                    usage += TokenUsage(requests=1)
                    continue
                raise
            return _message_content(response), usage + _usage_of(response)

    async def _chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        schema_name: str,
        validate: Callable[[dict[str, Any]], T],
    ) -> Generated[T]:
        """A validated answer; one repair round with the error sent back, then InvalidOutput."""
        usage = TokenUsage()
        conversation = list(messages)
        for attempt in range(2):
            content, call_usage = await self._chat_once(conversation, schema, schema_name)
            usage += call_usage
            try:
                value = validate(extract_json(content))
            except AnswerError as exc:
                if attempt == 1:
                    raise InvalidOutput(
                        f"the model's answer stayed invalid after a repair attempt: {exc}"
                    ) from None
                conversation = [
                    *messages,
                    {"role": "assistant", "content": content[:8000]},
                    prompts.repair_message(str(exc)),
                ]
                continue
            return Generated(value, usage, self.chat_model)
        raise AssertionError("unreachable")

    async def assign_mbti(self, character: Character) -> Generated[MbtiAnswer]:
        if self._mbti_batcher.max_size <= 1:
            return await self._mbti_alone(character)
        return await self._mbti_batcher.submit(character)

    async def _mbti_alone(self, character: Character) -> Generated[MbtiAnswer]:
        return await self._chat_json(
            prompts.mbti_messages(character),
            prompts.mbti_schema(),
            prompts.MBTI_SCHEMA_NAME,
            validate_mbti,
        )

    async def _mbti_batch(self, batch: Sequence[tuple[Character, MbtiFuture]]) -> None:
        """One request for the batch, checked per character; a character whose answer is
        missing or invalid is asked again alone (with its own repair round)."""
        if len(batch) == 1:
            character, future = batch[0]
            answer = await self._mbti_alone(character)
            if not future.done():
                future.set_result(answer)
            return
        characters = [character for character, _ in batch]
        content, usage = await self._chat_once(
            prompts.mbti_batch_messages(characters),
            prompts.mbti_batch_schema(),
            prompts.MBTI_BATCH_SCHEMA_NAME,
        )
        try:
            verdicts = validate_mbti_batch(extract_json(content), len(batch))
        except AnswerError as exc:
            verdicts = {ref: exc for ref in range(1, len(batch) + 1)}
        shares = _shares(usage, len(batch))
        alone: list[tuple[int, Character, MbtiFuture]] = []
        for index, (character, future) in enumerate(batch):
            verdict = verdicts[index + 1]
            if isinstance(verdict, AnswerError):
                alone.append((index, character, future))
            elif not future.done():
                future.set_result(Generated(verdict, shares[index], self.chat_model))
        results = await asyncio.gather(
            *(self._mbti_alone(character) for _, character, _ in alone), return_exceptions=True
        )
        for (index, _, future), result in zip(alone, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:  # the share of the batch it was part of is spent too
                future.set_result(
                    Generated(result.value, result.usage + shares[index], result.model)
                )

    async def write_settings(
        self, character: Character, fields: Sequence[str]
    ) -> Generated[dict[str, str]]:
        if not fields:
            raise ValueError("write_settings needs at least one field")
        language = character_language(character)
        wanted = list(dict.fromkeys(fields))
        return await self._chat_json(
            prompts.settings_messages(character, wanted, language),
            prompts.settings_schema(wanted),
            prompts.SETTINGS_SCHEMA_NAME,
            lambda data: validate_settings(data, wanted, language),
        )

    # --- images -------------------------------------------------------------------------------

    async def draw_avatar(self, character: Character, *, size_px: int) -> Generated[bytes]:
        prompt = prompts.avatar_prompt(character)
        if self.settings.image_api == "chat":
            raw, usage = await self._image_via_chat(prompt)
        else:
            raw, usage = await self._image_via_images(prompt, size_px)
        if not raw:
            raise InvalidOutput("the gateway returned an empty image")
        if len(raw) > self.settings.max_image_bytes:
            raise InvalidOutput(
                f"the image is {len(raw)} bytes, over the {self.settings.max_image_bytes}-byte limit"
            )
        return Generated(raw, usage, self.image_model)

    def _image_size(self, size_px: int) -> str:
        if self.image_model.lower().startswith(_FIXED_SIZE_MODELS):
            return "1024x1024"
        return f"{size_px}x{size_px}"

    async def _image_via_images(self, prompt: str, size_px: int) -> tuple[bytes, TokenUsage]:
        body: dict[str, Any] = {
            "model": self.image_model,
            "prompt": prompt,
            "n": 1,
            "size": self._image_size(size_px),
        }
        usage = TokenUsage()
        gpt_image = self.image_model.lower().startswith("gpt-image")
        if self._image_response_format and not gpt_image:
            body["response_format"] = "b64_json"
        try:
            response = await self._post("images/generations", body)
        except ProviderResponseError as exc:
            if (
                "response_format" not in body
                or exc.status_code != 400
                or "response_format" not in str(exc)
            ):
                raise
            self._image_response_format = False
            usage += TokenUsage(requests=1)
            body.pop("response_format")
            response = await self._post("images/generations", body)
        usage += _usage_of(response)
        data = response.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise InvalidOutput("the image response has no data[0]")
        first = data[0]
        if isinstance(first.get("b64_json"), str) and first["b64_json"]:
            return _decode_b64(first["b64_json"]), usage
        if isinstance(first.get("url"), str) and first["url"]:
            return await self._fetch_image(first["url"]), usage
        raise InvalidOutput("the image response has neither b64_json nor url")

    async def _image_via_chat(self, prompt: str) -> tuple[bytes, TokenUsage]:
        body = {"model": self.image_model, "messages": [{"role": "user", "content": prompt}]}
        response = await self._post("chat/completions", body)
        usage = _usage_of(response)
        content = _message_content(response)
        inline = _DATA_IMAGE.search(content)
        if inline:
            return _decode_b64(inline.group(1)), usage
        linked = _MARKDOWN_IMAGE_URL.search(content)
        if linked:
            return await self._fetch_image(linked.group(1)), usage
        raise InvalidOutput(
            "the chat answer contains no image (expected ![…](data:image/…;base64,…))"
        )

    async def _fetch_image(self, url: str) -> bytes:
        if url.startswith("data:"):
            inline = _DATA_IMAGE.match(url)
            if not inline:
                raise InvalidOutput("the gateway returned a data URL that is not a base64 image")
            return _decode_b64(inline.group(1))
        absolute = urljoin(self._gateway.base_url + "/", url)
        if urlsplit(absolute).scheme not in ("http", "https"):
            raise InvalidOutput(
                f"the gateway returned an image URL with an unusable scheme: {url[:80]!r}"
            )
        async with self.limiter.slot():
            raw, content_type = await self._gateway.download(
                absolute, max_bytes=self.settings.max_image_bytes
            )
        if not content_type.startswith("image/"):
            raise InvalidOutput(
                f"not an image (got {content_type or 'no content type'}, {len(raw):,} bytes) "
                f"from {urlsplit(absolute).netloc}"
            )
        return raw
