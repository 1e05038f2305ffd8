"""The production HTTP stack against raw loopback servers: what a kept library must get right.

Every case goes through ``GatewayClient`` exactly as production builds it (httpx on the
aiohttp transport), talking to a real socket.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import certifi
import pytest

from tests.providers.conftest import TEST_KEY, gateway_settings
from tui_updater.errors import ConfigError, ProviderTimeout, ProviderUnavailable
from tui_updater.providers.http import GatewayClient
from tui_updater.providers.openai_compat import OpenAICompatProvider

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK_BODY = b'{"ok": true}'


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """The request line, lower-cased headers and body of one HTTP/1.1 request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *lines = head.split("\r\n")
    headers = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return request_line, headers, body


def answer(status: str, body: bytes = OK_BODY, *, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


@asynccontextmanager
async def raw_server(
    handler: Handler, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    connections: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            connections.discard(task)

    server = await asyncio.start_server(accept, host, 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)


async def test_a_post_on_a_connection_the_gateway_closed_is_never_sent_twice() -> None:
    """The keep-alive race: the gateway takes the request off a reused connection and closes
    it without answering. The transport must not resend; the engine gets a transient error."""
    bodies: list[bytes] = []
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        served = 0
        while True:
            _, _, body = await read_request(reader)
            bodies.append(body)
            served += 1
            if served == 2:
                return  # closes the kept-alive connection with the second request unanswered
            writer.write(answer("200 OK"))
            await writer.drain()

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY)
        assert await client.post_json("chat/completions", {"n": 1}) == {"ok": True}
        with pytest.raises(ProviderUnavailable):
            await client.post_json("chat/completions", {"n": 2})
        assert await client.post_json("chat/completions", {"n": 3}) == {"ok": True}
        await client.aclose()
    sent = [json.loads(body)["n"] for body in bodies]
    assert sent == [1, 2, 3]  # request 2 arrived once, and was not resent on a new connection
    assert connections == 2


async def test_a_gateway_closing_idle_connections_gets_every_body_exactly_once() -> None:
    bodies: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                async with asyncio.timeout(0.05):  # the gateway's idle keep-alive timeout
                    _, _, body = await read_request(reader)
            except TimeoutError:
                return
            bodies.append(body)
            writer.write(answer("200 OK"))
            await writer.drain()

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY)
        outcomes: list[str] = []
        for wave in range(4):
            results = await asyncio.gather(
                *(client.post_json("x", {"n": wave * 10 + i}) for i in range(5)),
                return_exceptions=True,
            )
            outcomes += ["ok" if isinstance(r, dict) else type(r).__name__ for r in results]
            await asyncio.sleep(0.1)  # past the idle timeout: the pool holds closed connections
        await client.aclose()
    sent = [json.loads(body)["n"] for body in bodies]
    assert len(sent) == len(set(sent))  # no body ever arrived twice
    assert set(outcomes) <= {"ok", "ProviderUnavailable"}
    assert outcomes.count("ok") == len(sent)


async def test_a_502_whose_body_ends_by_closing_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
            b'{"error": {"message": "upstream went away", "code": "bad_gateway"}}'
        )
        await writer.drain()

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY)
        with pytest.raises(ProviderUnavailable, match="upstream went away") as caught:
            await client.post_json("chat/completions", {})
        assert caught.value.status_code == 502
        await client.aclose()


async def test_a_bare_204_is_an_answer_without_content_and_the_connection_is_reused() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        await read_request(reader)
        writer.write(answer("200 OK"))
        await writer.drain()

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY)
        with pytest.raises(ProviderUnavailable, match="204 and no content"):
            await client.post_json("chat/completions", {})
        assert await client.post_json("chat/completions", {}) == {"ok": True}
        await client.aclose()
    assert connections == 1


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
async def test_an_ipv6_base_url_sends_a_bracketed_host() -> None:
    seen: list[dict[str, str]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, headers, _ = await read_request(reader)
        seen.append(headers)
        writer.write(answer("200 OK"))
        await writer.drain()

    async with raw_server(handler, host="::1") as port:
        client = GatewayClient(f"http://[::1]:{port}", TEST_KEY)
        assert await client.post_json("chat/completions", {}) == {"ok": True}
        await client.aclose()
    assert seen[0]["host"] == f"[::1]:{port}"


@pytest.mark.parametrize("key", ["sk-abc\r\nX-Injected: 1", "sk-abc\nX: 1", "sk-\x00"])
def test_line_breaks_in_header_values_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="line break"):
        GatewayClient("http://gw.test", key)
    with pytest.raises(ConfigError, match="line break"):
        OpenAICompatProvider(gateway_settings(api_key=key))


@pytest.mark.parametrize("url", ["ftp://gw.test", "http:///v1", "::::"])
def test_an_unusable_base_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        GatewayClient(url, TEST_KEY)


async def _proxy_sees(client: GatewayClient, proxy_lines: list[str]) -> None:
    assert await client.post_json("chat/completions", {"via": "proxy"}) == {"ok": True}
    await client.aclose()
    assert proxy_lines == ["POST http://gateway.invalid/v1/chat/completions HTTP/1.1"]


@asynccontextmanager
async def forward_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A plain HTTP forward proxy that answers itself and records the request lines."""
    lines: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _, _ = await read_request(reader)
        lines.append(line)
        writer.write(answer("200 OK"))
        await writer.drain()

    async with raw_server(handler) as port:
        yield f"http://127.0.0.1:{port}", lines


async def test_proxy_from_config() -> None:
    async with forward_proxy() as (proxy_url, lines):
        client = GatewayClient("http://gateway.invalid", TEST_KEY, proxy=proxy_url)
        await _proxy_sees(client, lines)


async def test_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with forward_proxy() as (proxy_url, lines):
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        client = GatewayClient("http://gateway.invalid", TEST_KEY)
        await _proxy_sees(client, lines)


def test_certificates_come_from_certifi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    client = GatewayClient("https://gw.test", TEST_KEY)
    context = client._client._transport.ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() == []  # nothing loaded before the first TLS connection
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="gw.test")
    expected = ssl.create_default_context(cafile=certifi.where())
    assert len(context.get_ca_certs()) == len(expected.get_ca_certs()) > 100


def test_one_tls_context_for_every_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    client = GatewayClient("https://gw.test", TEST_KEY)
    contexts = {id(client._client._transport.ssl_context)}  # type: ignore[attr-defined]
    contexts |= {id(t.ssl_context) for t in client._client._mounts.values() if t is not None}  # type: ignore[attr-defined]
    assert len(client._client._mounts) >= 1 and len(contexts) == 1


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for localhost and its key, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_the_first_tls_connection_loads_the_certificates_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer("200 OK"))
        await writer.drain()

    async with raw_server(handler, tls=tls) as port:
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        untrusting = GatewayClient(f"https://localhost:{port}", TEST_KEY)  # certifi only
        with pytest.raises(ProviderUnavailable, match=r"(?i)certificate"):
            await untrusting.post_json("chat/completions", {})
        await untrusting.aclose()

        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        client = GatewayClient(f"https://localhost:{port}", TEST_KEY)
        context = client._client._transport.ssl_context  # type: ignore[attr-defined]
        assert context.get_ca_certs() == []
        try:
            assert await client.post_json("chat/completions", {}) == {"ok": True}
            assert len(context.get_ca_certs()) == 1  # SSL_CERT_FILE's, loaded by the handshake
        finally:
            await client.aclose()


async def test_a_plain_http_gateway_loads_no_certificates() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer("200 OK"))
        await writer.drain()

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY)
        try:
            assert await client.post_json("chat/completions", {})
            context = client._client._transport.ssl_context  # type: ignore[attr-defined]
            assert context.get_ca_certs() == []
        finally:
            await client.aclose()


async def _trickle(writer: asyncio.StreamWriter, head: bytes, total_bytes: int) -> None:
    writer.write(head)
    for _ in range(total_bytes):
        await asyncio.sleep(0.05)  # each byte comes well within any per-read timeout
        writer.write(b" ")
        await writer.drain()


async def test_the_whole_exchange_is_bounded_in_time() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await _trickle(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 100000)

    async with raw_server(handler) as port:
        client = GatewayClient(f"http://127.0.0.1:{port}", TEST_KEY, total_timeout_s=0.3)
        with pytest.raises(ProviderTimeout, match=r"within 0\.3s"):
            await client.post_json("chat/completions", {})
        await client.aclose()


async def test_an_image_download_that_trickles_stops_at_its_time_bound() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n"
        await _trickle(writer, head, 100000)

    async with raw_server(handler) as port:
        client = GatewayClient(
            "http://gw.test", TEST_KEY, download_timeout_s=0.3, allow_image_hosts=["127.0.0.1"]
        )
        with pytest.raises(ProviderTimeout, match=r"did not arrive within 0\.3s"):
            await client.download(f"http://127.0.0.1:{port}/a.png", max_bytes=1_000_000)
        await client.aclose()
