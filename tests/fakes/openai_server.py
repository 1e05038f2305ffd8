"""A real loopback fake of an OpenAI-compatible gateway (NewAPI shape) with scripted faults.

async with FakeOpenAIServer(latency_s=0.0) as srv:      # or: with FakeOpenAIServer() as srv:
    srv.script("chat/completions", [Fault.RATE_LIMIT_RETRY_AFTER(1), Fault.OK])
    srv.script("images/generations", [Fault.SERVER_ERROR], name="Alice")
    ... srv.base_url ...  srv.requests  srv.count("chat/completions", name="Alice")
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import itertools
import json
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from PIL import Image

from tests.fakes.http11 import Http11Server, Request, Response

MBTI_TYPES = (
    "INTJ", "INTP", "ENTJ", "ENTP", "INFJ", "INFP", "ENFJ", "ENFP",
    "ISTJ", "ISFJ", "ESTJ", "ESFJ", "ISTP", "ISFP", "ESTP", "ESFP",
)  # fmt: skip
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NAME_LINE = re.compile(r"^Name: (.+)$", re.M)
_KEYS_LINE = re.compile(r"^Keys: (.+)$", re.M)
_PORTRAIT = re.compile(r"^Portrait of ([^,]+)")
_BATCH_LINE = re.compile(r"^Batch: (\d+)$", re.M)
_CHARACTER_BLOCK = re.compile(r"^Character (?=\d+:)", re.M)


@dataclass(frozen=True)
class Fault:
    """One scripted answer. Use the constants/constructors below, e.g. ``Fault.RATE_LIMIT``."""

    kind: str
    status: int = 200
    retry_after: str | None = None
    message: str = ""
    code: str = ""
    size_bytes: int = 0
    hang_s: float = 30.0
    url: str = ""
    body: bytes = b""
    content_type: str = "application/json"

    OK: ClassVar[Fault]
    RATE_LIMIT: ClassVar[Fault]  # 429, no Retry-After (NewAPI's own limiter)
    SERVER_ERROR: ClassVar[Fault]  # 500
    UNAVAILABLE: ClassVar[Fault]  # 503
    HANG: ClassVar[Fault]  # no answer for 30 s (past any test timeout)
    DISCONNECT: ClassVar[Fault]  # socket closed without an answer
    MALFORMED_JSON: ClassVar[Fault]  # 200 with a body that is not JSON
    NOT_JSON_CONTENT: ClassVar[Fault]  # chat content is prose without JSON
    FENCED_JSON: ClassVar[Fault]  # a good answer wrapped in prose and ```json fences
    INVALID_MBTI: ClassVar[Fault]  # mbtiType "XXXX"
    WRONG_FIELDS: ClassVar[Fault]  # settings with other keys than requested
    QUOTA: ClassVar[Fault]  # 403 insufficient_user_quota
    BAD_REQUEST: ClassVar[Fault]  # 400 unrelated to response_format
    UNAUTHORIZED: ClassVar[Fault]  # 401
    SCHEMA_REJECTED: ClassVar[Fault]  # 400 "response_format json_schema is not supported"
    IMAGE_URL: ClassVar[Fault]  # answer with a url served by the fake
    IMAGE_B64: ClassVar[Fault]  # answer with b64_json
    WRONG_CONTENT_TYPE: ClassVar[Fault]  # url whose file is served as text/html
    NOT_AN_IMAGE: ClassVar[Fault]  # b64_json of bytes that are not an image
    NO_IMAGE: ClassVar[Fault]  # images: empty data list; chat: text without an image

    @staticmethod
    def RATE_LIMIT_RETRY_AFTER(retry_after: float | str) -> Fault:
        """429 with ``Retry-After`` (seconds, or an HTTP-date string)."""
        value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        return Fault("error", 429, retry_after=value, message="rate limited", code="rate_limit")

    @staticmethod
    def OVERSIZE_IMAGE(size_bytes: int) -> Fault:
        """An image answer of ``size_bytes`` bytes (PNG signature + padding)."""
        return Fault("oversize_image", size_bytes=size_bytes)

    @staticmethod
    def ERROR(status: int, message: str = "error", code: str = "") -> Fault:
        """Any error status with a NewAPI-shaped body."""
        return Fault("error", status, message=message, code=code)

    @staticmethod
    def IMAGE_AT(url: str) -> Fault:
        """An images answer whose ``data[0].url`` is ``url`` (anywhere, not served here)."""
        return Fault("image_at", url=url)

    @staticmethod
    def ERROR_IN_200(message: str, code: str = "", error_type: str = "new_api_error") -> Fault:
        """HTTP 200 whose body is an error object, as NewAPI answers some failures."""
        body = {"error": {"message": message, "type": error_type, "param": "", "code": code}}
        return Fault("raw", 200, body=json.dumps(body, ensure_ascii=False).encode())

    @staticmethod
    def RAW(status: int, body: bytes, content_type: str = "application/json") -> Fault:
        """Exactly this status, body and content type (an HTML page, an OpenAI-shaped error…)."""
        return Fault("raw", status, body=body, content_type=content_type)

    @staticmethod
    def CONTENT(text: str) -> Fault:
        """A chat answer whose message content is ``text`` verbatim."""
        return Fault("content", message=text)

    @staticmethod
    def HANG_FOR(hang_s: float) -> Fault:
        return Fault("hang", hang_s=hang_s)


Fault.OK = Fault("ok")
Fault.RATE_LIMIT = Fault(
    "error", 429, message="当前分组上游负载已饱和 rate limit", code="rate_limit"
)
Fault.SERVER_ERROR = Fault("error", 500, message="upstream error", code="bad_response")
Fault.UNAVAILABLE = Fault("error", 503, message="no available channel", code="no_channel")
Fault.HANG = Fault("hang")
Fault.DISCONNECT = Fault("disconnect")
Fault.MALFORMED_JSON = Fault("malformed_json")
Fault.NOT_JSON_CONTENT = Fault("not_json_content")
Fault.FENCED_JSON = Fault("fenced_json")
Fault.INVALID_MBTI = Fault("invalid_mbti")
Fault.WRONG_FIELDS = Fault("wrong_fields")
Fault.QUOTA = Fault(
    "error", 403, message="user quota is not enough", code="insufficient_user_quota"
)
Fault.BAD_REQUEST = Fault("error", 400, message="invalid model", code="model_not_found")
Fault.UNAUTHORIZED = Fault("error", 401, message="invalid token", code="invalid_api_key")
Fault.SCHEMA_REJECTED = Fault(
    "error", 400, message="response_format json_schema is not supported", code="invalid_request"
)
Fault.IMAGE_URL = Fault("image_url")
Fault.IMAGE_B64 = Fault("image_b64")
Fault.WRONG_CONTENT_TYPE = Fault("wrong_content_type")
Fault.NOT_AN_IMAGE = Fault("not_an_image")
Fault.NO_IMAGE = Fault("no_image")


class RecordedRequest(NamedTuple):
    path: str  # e.g. /v1/chat/completions
    body: Any  # parsed JSON (None when there is no body or it is not JSON)
    timestamp: float  # time.monotonic()


def _norm_path(path: str) -> str:
    path = "/" + path.strip().lstrip("/")
    return path if path.startswith("/v1/") or path.startswith("/files/") else "/v1" + path


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def _png(seed: str, size_px: int) -> bytes:
    bits = _stable(seed)
    colour = (bits & 0xFF, (bits >> 8) & 0xFF, (bits >> 16) & 0xFF)
    out = io.BytesIO()
    Image.new("RGB", (size_px, size_px), colour).save(out, format="PNG")
    return out.getvalue()


def _error(status: int, message: str, code: str, retry_after: str | None = None) -> Response:
    body = {"error": {"message": message, "type": "new_api_error", "param": "", "code": code}}
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Response(status, json.dumps(body).encode(), headers=headers)


class FakeOpenAIServer:
    """OpenAI-compatible loopback server: /v1/models, /v1/chat/completions, /v1/images/generations."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        expected_key: str | None = None,
        models: Iterable[str] = ("gpt-4o-mini", "nano-banana"),
        image_size_cap_px: int = 64,
        max_in_flight: int | None = None,
        port: int = 0,
        reuse_port: bool = False,
    ) -> None:
        self.latency_s = latency_s
        # A hidden limit: past this many requests in flight, an immediate 429 (NewAPI's limiter).
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.refused = 0
        self.expected_key = expected_key
        self.models = tuple(models)
        self.image_size_cap_px = image_size_cap_px
        self.reject_json_schema = False  # every json_schema request gets 400 (fallback tests)
        self.reject_response_format = False  # every response_format gets 400
        self.default_image_format = "b64_json"  # when the request names none
        self.requests: list[RecordedRequest] = []
        self._path_faults: dict[str, deque[Fault]] = {}
        self._name_faults: dict[tuple[str, str], deque[Fault]] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._ids = itertools.count(1)
        self._http = Http11Server(self._handle, port=port, reuse_port=reuse_port)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeOpenAIServer:
        await self._http.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.stop()

    def start(self) -> FakeOpenAIServer:
        """Run in a background thread with its own event loop (for sync/subprocess tests)."""
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._http.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._http.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
            self._loop = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting ----------------------------------------------------------------------------

    def script(self, path: str, faults: Iterable[Fault], *, name: str | None = None) -> None:
        """Queue ``faults`` for the next requests to ``path`` (about character ``name`` if given).

        Each request pops one; an empty queue answers normally. Name queues win over path queues;
        a request is "about" a name when the name appears in its JSON body.
        """
        key = _norm_path(path)
        if name is None:
            self._path_faults.setdefault(key, deque()).extend(faults)
        else:
            self._name_faults.setdefault((key, name), deque()).extend(faults)

    def count(self, path: str | None = None, *, name: str | None = None) -> int:
        """How many requests went to ``path`` (any if None) whose body mentions ``name``."""
        wanted = _norm_path(path) if path else None
        total = 0
        for request in list(self.requests):
            if wanted is not None and request.path != wanted:
                continue
            if name is not None and name not in json.dumps(request.body, ensure_ascii=False):
                continue
            total += 1
        return total

    def _next_fault(self, path: str, body: Any) -> tuple[Fault, str | None]:
        """The scripted fault for this request, and the name it was scripted for (if any)."""
        # Serialising the body costs more than the rest of a request: only when names are scripted.
        pending = [(key, queue) for key, queue in self._name_faults.items() if queue]
        body_text = json.dumps(body, ensure_ascii=False) if pending and body is not None else ""
        for (fault_path, name), queue in pending:
            if fault_path == path and queue and name in body_text:
                return queue.popleft(), name
        path_queue = self._path_faults.get(path)
        return (path_queue.popleft() if path_queue else Fault.OK), None

    # --- serving ------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
            self.refused += 1
            return _error(429, "当前分组上游负载已饱和，请稍后再试", "rate_limit")
        self.in_flight += 1
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Request) -> Response:
        path = request.path
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        if not path.startswith("/files/"):
            self.requests.append(RecordedRequest(path, body, time.monotonic()))
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        if path.startswith("/files/"):
            return self._file(path)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or (
            self.expected_key is not None and auth != f"Bearer {self.expected_key}"
        ):
            return _error(401, "invalid token", "invalid_api_key")
        fault, fault_name = self._next_fault(path, body)
        if fault.kind == "error":
            return _error(fault.status, fault.message, fault.code, fault.retry_after)
        if fault.kind == "hang":
            await asyncio.sleep(fault.hang_s)
        if fault.kind == "disconnect":
            return Response(drop_connection=True)
        if fault.kind == "malformed_json":
            return Response(200, b'{"id": "chatcmpl-broken", "choices": [')
        if fault.kind == "raw":
            return Response(fault.status, fault.body, content_type=fault.content_type)
        if path == "/v1/models" and request.method == "GET":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models
            ]
            return self._json({"object": "list", "data": data})
        if request.method != "POST" or not isinstance(body, dict):
            return _error(404 if request.method != "POST" else 400, f"no route {path}", "not_found")
        if path == "/v1/chat/completions":
            return self._chat(body, fault, fault_name)
        if path == "/v1/images/generations":
            return self._images(body, fault)
        return _error(404, f"no route {path}", "not_found")

    def _json(self, payload: Any) -> Response:
        return Response(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _file(self, path: str) -> Response:
        entry = self._files.get(path.removeprefix("/files/"))
        if entry is None:
            return _error(404, "file not found", "not_found")
        data, content_type = entry
        return Response(200, data, content_type=content_type)

    # --- chat ---------------------------------------------------------------------------------

    def _chat(self, body: dict[str, Any], fault: Fault, fault_name: str | None = None) -> Response:
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and (
            self.reject_response_format
            or (self.reject_json_schema and response_format.get("type") == "json_schema")
        ):
            kind = response_format.get("type")
            return _error(
                400, f"response_format {kind} is not supported by this channel", "invalid_request"
            )
        messages = body.get("messages") or []
        system = "\n".join(str(m.get("content")) for m in messages if m.get("role") == "system")
        user = "\n".join(str(m.get("content")) for m in messages if m.get("role") == "user")
        batch = _BATCH_LINE.search(system)
        if "Task: MBTI_ASSIGNMENT" in system and batch:
            content = self._mbti_batch_content(user, fault, fault_name)
        elif "Task: MBTI_ASSIGNMENT" in system:
            content = self._mbti_content(user, fault)
        elif "Task: CHARACTER_SETTINGS" in system:
            content = self._settings_content(system, user, response_format, fault)
        else:
            content = self._chat_image_content(user, fault)
        if fault.kind == "content":
            content = fault.message
        elif fault.kind == "not_json_content":
            content = "I am sorry, I cannot answer in JSON today."
        elif fault.kind == "fenced_json":
            content = f"Here you go:\n```json\n{content}\n```\nAnything else?"
        prompt_tokens = len(json.dumps(messages, ensure_ascii=False)) // 4 + 1
        completion_tokens = len(content) // 4 + 1
        return self._json(
            {
                "id": f"chatcmpl-fake-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": str(body.get("model") or "fake"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    @staticmethod
    def _mbti_answer(name: str, invalid: bool) -> dict[str, Any]:
        return {
            "mbtiType": "XXXX" if invalid else MBTI_TYPES[_stable(name) % 16],
            "confidence": 0.82,
            "reason": f"fake gateway verdict for {name}",
        }

    def _mbti_content(self, user: str, fault: Fault) -> str:
        name_match = _NAME_LINE.search(user)
        name = name_match.group(1) if name_match else user
        answer = self._mbti_answer(name, fault.kind == "invalid_mbti")
        return json.dumps(answer, ensure_ascii=False)

    def _mbti_batch_content(self, user: str, fault: Fault, fault_name: str | None) -> str:
        """``{"answers": [...]}`` for ``Character N:`` blocks; an invalid_mbti fault scripted
        for a name spoils only that character's answer (for the whole batch when unnamed)."""
        answers = []
        for block in _CHARACTER_BLOCK.split(user)[1:]:
            ref_text, _, sheet = block.partition(":")
            name_match = _NAME_LINE.search(sheet)
            name = name_match.group(1) if name_match else sheet
            invalid = fault.kind == "invalid_mbti" and fault_name in (None, name)
            answers.append({"ref": int(ref_text), **self._mbti_answer(name, invalid)})
        return json.dumps({"answers": answers}, ensure_ascii=False)

    def _settings_content(self, system: str, user: str, response_format: Any, fault: Fault) -> str:
        keys: list[str] = []
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema") or {}
            keys = list((schema.get("properties") or {}).keys())
        if not keys:
            keys_match = _KEYS_LINE.search(system)
            keys = (
                [k.strip() for k in keys_match.group(1).split(",")]
                if keys_match
                else ["fullDescription"]
            )
        if fault.kind == "wrong_fields":
            keys = [f"{k}Wrong" for k in keys]
        name_match = _NAME_LINE.search(user)
        name = name_match.group(1) if name_match else "someone"
        chinese = bool(_CJK.search(user))
        answer: dict[str, Any] = {}
        for key in keys:
            if key == "exampleDialogs":
                answer[key] = (
                    [
                        {"user": "你好", "character": f"你好，我是{name}。"},
                        {"user": "再见", "character": "下次见！"},
                    ]
                    if chinese
                    else [
                        {"user": "Hi", "character": f"Hello, I'm {name}."},
                        {"user": "Bye", "character": "See you!"},
                    ]
                )
            else:
                answer[key] = (
                    f"这是{name}的{key}。"
                    if chinese
                    else f"The {key} of {name}, written by the fake gateway."
                )
        return json.dumps(answer, ensure_ascii=False)

    def _chat_image_content(self, user: str, fault: Fault) -> str:
        if fault.kind == "no_image":
            return "I cannot draw that."
        image = self._image_bytes(user, 0, fault)
        return f"![image](data:image/png;base64,{base64.b64encode(image).decode()})"

    # --- images -------------------------------------------------------------------------------

    def _image_bytes(self, prompt: str, size_px: int, fault: Fault) -> bytes:
        if fault.kind == "oversize_image":
            return b"\x89PNG\r\n\x1a\n" + b"\0" * max(0, fault.size_bytes - 8)
        if fault.kind == "not_an_image":
            return b"<html>definitely not an image</html>"
        size = min(size_px or self.image_size_cap_px, self.image_size_cap_px)
        return _png(prompt, size)

    def _images(self, body: dict[str, Any], fault: Fault) -> Response:
        if self.reject_response_format and "response_format" in body:
            return _error(400, "unknown parameter response_format", "invalid_request")
        if fault.kind == "no_image":
            return self._json({"created": int(time.time()), "data": []})
        if fault.kind == "image_at":
            return self._json({"created": int(time.time()), "data": [{"url": fault.url}]})
        prompt = str(body.get("prompt") or "")
        size_match = re.match(r"(\d+)x(\d+)", str(body.get("size") or ""))
        size_px = int(size_match.group(1)) if size_match else 0
        image = self._image_bytes(prompt, size_px, fault)
        wanted = str(body.get("response_format") or self.default_image_format)
        if fault.kind in ("image_url", "wrong_content_type"):
            wanted = "url"
        elif fault.kind == "image_b64":
            wanted = "b64_json"
        if wanted == "url":
            file_name = f"img-{next(self._ids)}.png"
            content_type = "text/html" if fault.kind == "wrong_content_type" else "image/png"
            self._files[file_name] = (image, content_type)
            item: dict[str, Any] = {"url": f"http://127.0.0.1:{self.port}/files/{file_name}"}
        else:
            item = {"b64_json": base64.b64encode(image).decode()}
        portrait = _PORTRAIT.match(prompt)
        item["revised_prompt"] = prompt if portrait is None else f"Portrait of {portrait.group(1)}"
        return self._json({"created": int(time.time()), "data": [item]})


class FakeOpenAIProcess:
    """The fake in child processes, so benchmarks do not share a loop (or the GIL) with it.

    ``with FakeOpenAIProcess(latency_s=0.1, processes=2) as proc: proc.base_url`` — no fault
    scripting. ``processes`` children serve one port (SO_REUSEPORT); ``stats`` (requests and
    429 refusals, summed) is filled in on exit. A hidden ``max_in_flight`` needs one process.
    """

    def __init__(
        self, *, latency_s: float = 0.0, processes: int = 1, max_in_flight: int | None = None
    ) -> None:
        if max_in_flight is not None and processes != 1:
            raise ValueError("a hidden in-flight limit is counted in one process")
        self.latency_s = latency_s
        self.processes = processes
        self.max_in_flight = max_in_flight
        self.base_url = ""
        self.stats = {"requests": 0, "refused": 0}
        self._children: list[subprocess.Popen[str]] = []

    def _spawn(self, port: int) -> str:
        root = Path(__file__).resolve().parents[2]
        command = [sys.executable, "-m", "tests.fakes", "--latency-s", str(self.latency_s)]
        command += ["--port", str(port)] + (["--reuse-port"] if self.processes > 1 else [])
        if self.max_in_flight is not None:
            command += ["--max-in-flight", str(self.max_in_flight)]
        child = subprocess.Popen(
            command, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._children.append(child)
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if not line.startswith("READY "):
            self.__exit__()
            raise RuntimeError(f"fake gateway process did not start: {line!r}")
        return line.removeprefix("READY ")

    def __enter__(self) -> FakeOpenAIProcess:
        self.base_url = self._spawn(0)
        port = int(self.base_url.rsplit(":", 1)[1].split("/", 1)[0])
        for _ in range(self.processes - 1):
            self._spawn(port)
        return self

    def __exit__(self, *exc: object) -> None:
        for child in self._children:
            if child.stdin is not None:
                child.stdin.close()  # the child prints its stats and exits when stdin closes
        for child in self._children:
            out = child.stdout.read() if child.stdout is not None else ""
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()
            for line in out.splitlines():
                if line.startswith("STATS "):
                    for key, value in json.loads(line.removeprefix("STATS ")).items():
                        self.stats[key] = self.stats.get(key, 0) + int(value)
        self._children = []


async def _serve_until_stdin_closes(args: argparse.Namespace) -> None:
    server = FakeOpenAIServer(
        latency_s=args.latency_s,
        max_in_flight=args.max_in_flight,
        port=args.port,
        reuse_port=args.reuse_port,
    )
    async with server:
        print(f"READY {server.base_url}", flush=True)
        await asyncio.to_thread(sys.stdin.read)
        stats = {"requests": len(server.requests), "refused": server.refused}
        print(f"STATS {json.dumps(stats)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes [--latency-s S] [--port P --reuse-port] [--max-in-flight N]``:
    prints ``READY <base_url>``, then ``STATS {...}`` when stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-s", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--max-in-flight", type=int, default=None)
    args = parser.parse_args(argv)
    asyncio.run(_serve_until_stdin_closes(args))


if __name__ == "__main__":
    main()


__all__ = ["FakeOpenAIProcess", "FakeOpenAIServer", "Fault", "RecordedRequest"]
