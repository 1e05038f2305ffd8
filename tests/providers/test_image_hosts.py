"""Image URLs the gateway hands out may not reach the operator's own network (SSRF).

The fake gateway answers with a URL to another loopback server that counts its connections;
refusals are asserted with that count at zero. Private and metadata addresses are literals,
refused before any connection (nothing is ever sent to them).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from PIL import Image

from tests.fakes import FakeOpenAIServer
from tests.fakes.openai_server import Fault
from tests.providers.conftest import gateway_settings
from tui_updater.errors import InvalidOutput
from tui_updater.providers.base import Character
from tui_updater.providers.image_hosts import ImageHostPolicy, RefusedAddress
from tui_updater.providers.openai_compat import OpenAICompatProvider

IMAGES = "images/generations"
ALICE: Character = {"id": "c1", "name": "Alice", "description": "A curious girl."}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


class ImageServer:
    """A loopback file server that is not the gateway; counts connections and requests."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.connections = 0
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def image_server(answer: bytes | None = None) -> AsyncIterator[ImageServer]:
    body = png_bytes()
    served = ImageServer(
        answer
        or b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    server = await asyncio.start_server(served._serve, "127.0.0.1", 0)
    served.port = server.sockets[0].getsockname()[1]
    try:
        yield served
    finally:
        server.close()
        await server.wait_closed()


async def provider_for(gateway: FakeOpenAIServer, **overrides: object) -> OpenAICompatProvider:
    return OpenAICompatProvider(gateway_settings(gateway.base_url, **overrides))


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1.2.3"],
)
async def test_loopback_image_urls_are_refused_without_a_connection(
    fake_server: FakeOpenAIServer, host: str
) -> None:
    async with image_server() as served:
        fake_server.script(IMAGES, [Fault.IMAGE_AT(f"http://{host}:{served.port}/a.png")])
        provider = await provider_for(fake_server)
        try:
            with pytest.raises(InvalidOutput, match="refused to fetch an image from") as caught:
                await provider.draw_avatar(ALICE, size_px=64)
        finally:
            await provider.aclose()
    assert "provider.allow_image_hosts" in str(caught.value)
    assert served.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.1.2.3/a.png",
        "http://192.168.0.10:8080/a.png",
        "http://[fd00::1]/a.png",
        "http://0.0.0.0:80/a.png",
        "https://[fe80::1]/a.png",
    ],
)
async def test_private_link_local_and_metadata_urls_are_refused(
    fake_server: FakeOpenAIServer, url: str
) -> None:
    fake_server.script(IMAGES, [Fault.IMAGE_AT(url)])
    provider = await provider_for(fake_server)
    try:
        with pytest.raises(InvalidOutput, match="loopback, private, link-local or metadata"):
            await provider.draw_avatar(ALICE, size_px=64)
    finally:
        await provider.aclose()


@pytest.mark.parametrize("allowed", ["127.0.0.1", "localhost", "{host}:{port}"])
async def test_an_allowed_host_is_fetched(fake_server: FakeOpenAIServer, allowed: str) -> None:
    async with image_server() as served:
        host = "localhost" if allowed == "localhost" else "127.0.0.1"
        entry = allowed.format(host=host, port=served.port)
        fake_server.script(IMAGES, [Fault.IMAGE_AT(f"http://{host}:{served.port}/a.png")])
        provider = await provider_for(fake_server, allow_image_hosts=(entry,))
        try:
            image = await provider.draw_avatar(ALICE, size_px=64)
        finally:
            await provider.aclose()
    assert image.value == png_bytes()
    assert served.connections == 1


async def test_an_allowed_port_does_not_allow_the_hosts_other_ports(
    fake_server: FakeOpenAIServer,
) -> None:
    async with image_server() as served:
        fake_server.script(IMAGES, [Fault.IMAGE_AT(f"http://127.0.0.1:{served.port}/a.png")])
        provider = await provider_for(fake_server, allow_image_hosts=("127.0.0.1:1",))
        try:
            with pytest.raises(InvalidOutput, match="refused"):
                await provider.draw_avatar(ALICE, size_px=64)
        finally:
            await provider.aclose()
    assert served.connections == 0


async def test_the_gateways_own_files_are_fetched(fake_server: FakeOpenAIServer) -> None:
    fake_server.script(IMAGES, [Fault.IMAGE_URL])  # http://127.0.0.1:<gateway port>/files/…
    provider = await provider_for(fake_server)
    try:
        image = await provider.draw_avatar(ALICE, size_px=64)
    finally:
        await provider.aclose()
    assert image.value.startswith(b"\x89PNG")


async def test_redirects_are_not_followed(fake_server: FakeOpenAIServer) -> None:
    redirect = (
        b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    async with image_server(redirect) as served:
        fake_server.script(IMAGES, [Fault.IMAGE_AT(f"http://127.0.0.1:{served.port}/a.png")])
        provider = await provider_for(fake_server, allow_image_hosts=("127.0.0.1",))
        try:
            with pytest.raises(InvalidOutput, match=r"redirects \(HTTP 302\).*not followed"):
                await provider.draw_avatar(ALICE, size_px=64)
        finally:
            await provider.aclose()
    assert served.connections == 1


def test_the_policy_checks_every_resolved_address() -> None:
    policy = ImageHostPolicy(["files.example:8443"])
    policy.check_resolved("cdn.example", 443, ["93.184.215.14", "2606:2800:21f:cb07::1"])
    with pytest.raises(RefusedAddress, match=r"cdn.example \(10.0.0.7\)"):
        policy.check_resolved("cdn.example", 443, ["93.184.215.14", "10.0.0.7"])
    policy.check_resolved("files.example", 8443, ["10.0.0.7"])  # trusted by the operator
    with pytest.raises(RefusedAddress):
        policy.check_resolved("files.example", 443, ["10.0.0.7"])
