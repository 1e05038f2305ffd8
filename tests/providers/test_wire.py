"""The lean HTTP/1.1 client against scripted loopback servers: framing, reuse, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tui_updater.providers.wire import WireClient, WireError


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


@asynccontextmanager
async def server(handler) -> AsyncIterator[tuple[str, dict[str, int]]]:  # type: ignore[no-untyped-def]
    stats = {"connections": 0, "requests": 0}

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["connections"] += 1
        try:
            await handler(reader, writer, stats)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", stats
    finally:
        srv.close()


async def keep_alive_json(reader, writer, stats):  # type: ignore[no-untyped-def]
    while True:
        head, body = await read_request(reader)
        stats["requests"] += 1
        assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert b"Authorization: Bearer k" in head
        answer = b'{"echo": ' + body + b"}"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(answer), answer)
        )
        await writer.drain()


async def test_posts_reuse_one_keep_alive_connection():
    async with server(keep_alive_json) as (url, stats):
        client = WireClient(url)
        for index in range(5):
            response = await client.post(
                "chat/completions", b'{"n": %d}' % index, {"Authorization": "Bearer k"}
            )
            assert (
                response.status_code == 200 and response.content == b'{"echo": {"n": %d}}' % index
            )
        await client.aclose()
    assert stats == {"connections": 1, "requests": 5}


async def test_chunked_answer_and_error_status_headers():
    async def chunked(reader, writer, stats):  # type: ignore[no-untyped-def]
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        writer.write(b'5\r\n{"a":\r\n4;ext=1\r\n 12}\r\n0\r\nX-Trailer: t\r\n\r\n')
        await writer.drain()
        await asyncio.sleep(0.05)

    async with server(chunked) as (url, _stats):
        client = WireClient(url)
        response = await client.post("chat/completions", b"{}", {})
        await client.aclose()
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert response.content == b'{"a": 12}'


async def test_connection_close_is_honoured_and_a_stale_idle_connection_is_replaced():
    async def one_shot(reader, writer, stats):  # type: ignore[no-untyped-def]
        await read_request(reader)
        stats["requests"] += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")  # keep-alive promised…
        await writer.drain()
        # …but the server drops the idle connection right away (an idle timeout)

    async with server(one_shot) as (url, stats):
        client = WireClient(url)
        for _ in range(3):
            assert (await client.post("x", b"{}", {})).content == b"{}"
            await asyncio.sleep(0.02)
        await client.aclose()
    assert stats["requests"] == 3 and stats["connections"] == 3


async def test_a_silent_server_times_out():
    async def silent(reader, writer, stats):  # type: ignore[no-untyped-def]
        await read_request(reader)
        await asyncio.sleep(5)

    async with server(silent) as (url, _stats):
        client = WireClient(url, read_timeout_s=0.1)
        with pytest.raises(WireError) as caught:
            await client.post("x", b"{}", {})
        await client.aclose()
    assert caught.value.timeout


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",  # not HTTP at all
        b"HTTP/1.1 200 OK\r\n\r\n",  # neither length nor chunked
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",  # cut short
    ],
)
async def test_broken_answers_are_wire_errors(answer: bytes):
    async def broken(reader, writer, stats):  # type: ignore[no-untyped-def]
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async with server(broken) as (url, _stats):
        client = WireClient(url)
        with pytest.raises(WireError) as caught:
            await client.post("x", b"{}", {})
        await client.aclose()
    assert not caught.value.timeout


async def test_nothing_listening_is_a_wire_error():
    client = WireClient("http://127.0.0.1:9/v1", connect_timeout_s=1)
    with pytest.raises(WireError, match="cannot connect"):
        await client.post("x", b"{}", {})
    await client.aclose()
