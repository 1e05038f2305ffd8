"""What a `run` pays before and after its work: the modules it loads, and the control socket it
listens on, which builds the server only when a client connects."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tui_updater.characters.demo import generate_synthetic_db
from tui_updater.config import Settings
from tui_updater.runtime import Runtime
from tui_updater.server.client import RemoteService

ROOT = Path(__file__).resolve().parents[1]

# The CLI as the console script runs it, then the modules it loaded, on stderr.
_LOADED = (
    "import json, sys; from tui_updater.cli import main; code = main(sys.argv[1:]);"
    "print('LOADED ' + json.dumps(sorted(sys.modules)), file=sys.stderr);"
    "sys.exit(code)"
)
NOT_FOR_RUN = ("textual", "starlette", "uvicorn", "websockets", "click", "pygments", "PIL")
OTHER_TYPES = ("avatar", "settings", "upgrade", "card_import")  # beside MBTI_ASSIGNMENT


def test_a_run_through_the_gateway_loads_neither_server_nor_dashboard(tmp_path: Path) -> None:
    db = generate_synthetic_db(tmp_path / "dev.db", 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    command = [sys.executable, "-c", _LOADED, "run", "MBTI_ASSIGNMENT", "--json", "--db", str(db)]
    command += [f"--{name}-dir={tmp_path / name}" for name in ("state", "data", "log", "backup")]
    with FakeOpenAIServer() as gateway:
        env |= {"NEWAPI_BASE_URL": gateway.base_url, "NEWAPI_KEY": "sk-test"}
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        asked = gateway.count("chat/completions")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"]["done"] == 3 and asked >= 1
    line = next(line for line in done.stderr.splitlines() if line.startswith("LOADED "))
    modules = set(json.loads(line.removeprefix("LOADED ")))
    loaded = {name.split(".")[0] for name in modules}
    assert {"aiohttp", "httpx", "aiosqlite"} <= loaded  # the gateway path did run
    assert sorted(loaded & set(NOT_FOR_RUN)) == []
    # Only the type that runs is imported (the registry loads a type when it is first asked for).
    other_types = {f"tui_updater.tasks.{name}" for name in OTHER_TYPES}
    assert "tui_updater.tasks.mbti" in modules and sorted(modules & other_types) == []


def _demo(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings.for_tests(tmp_path, demo=True, data_dir=data, db_path=data / "demo" / "dev.db")


async def test_the_control_socket_listens_at_once_and_serves_its_first_client(
    tmp_path: Path,
) -> None:
    settings = _demo(tmp_path)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    try:
        assert runtime.control is not None and runtime.owner is not None
        path = runtime.owner.socket
        assert not runtime.control.serving  # nothing built before a client comes
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(path))  # accepted into the backlog: the socket listens from the start
        probe.close()
        client = RemoteService("http://localhost", None, uds=str(path))
        try:
            info = await client.info()
            assert info.database == str(settings.db_path.resolve())
            assert runtime.control.serving
        finally:
            await client.aclose()
    finally:
        await runtime.close()
    assert not path.exists()


async def test_an_owner_nobody_attached_to_closes_its_socket(tmp_path: Path) -> None:
    settings = _demo(tmp_path)
    runtime = await Runtime.open(settings, synchronous="NORMAL")
    assert runtime.owner is not None and runtime.control is not None
    path = runtime.owner.socket
    assert path.exists()
    await runtime.close()
    assert not runtime.control.serving and not path.exists()
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as refused,
        pytest.raises((FileNotFoundError, ConnectionRefusedError)),
    ):
        refused.connect(str(path))


def test_the_process_entry_flushes_everything_and_keeps_the_exit_code(tmp_path: Path) -> None:
    """``python -m tui_updater`` ends without the interpreter's teardown: what was written to
    stdout, stderr and the log file must all be there, and the exit code unchanged."""
    from tui_updater.logs import LOG_FILE_NAME

    skipped = ("NEWAPI", "OPENAI", "TAVERN", "PYTHONUNBUFFERED")  # stdout buffered, as in a pipe
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    base = [sys.executable, "-m", "tui_updater", "run", "--demo", "--offline", "--json"]
    base += [f"--{name}-dir={tmp_path / name}" for name in ("state", "data", "log", "backup")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [*base[:4], *args, *base[4:]]
        return subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
        )

    done = run("MBTI_ASSIGNMENT")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("}\n")  # the whole document, its last line flushed too
    task = json.loads(done.stdout)
    assert task["status"] == "COMPLETED" and "spend" in task
    assert "task completed" in done.stderr
    logged = (tmp_path / "log" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert f"task completed: {task['taskId']}" in logged
    unknown = run("NOPE")
    assert unknown.returncode == 2 and "MBTI_ASSIGNMENT" in unknown.stderr


# What aiohttp's default verifying context holds once the gateway client imported it, and the
# environment after: run as the process entry ("own") or as an embedding application would.
_DEFAULTS = (
    "import json, os, sys; from tui_updater import process\n"
    "if sys.argv[1] == 'own': process.own()\n"
    "process.import_aiohttp()\n"
    "import aiohttp.connector as c, gc\n"
    "process.started()\n"
    "print(json.dumps([c._SSL_CONTEXT_VERIFIED.cert_store_stats()['x509'],"
    " os.environ.get('SSL_CERT_FILE'), os.environ.get('PYDANTIC_DISABLE_PLUGINS'),"
    " gc.get_threshold()[0], gc.get_freeze_count()]))"
)


@pytest.mark.parametrize("entry", ["own", "embedded"])
def test_only_the_tools_own_process_skips_the_system_bundle_in_aiohttp_defaults(
    entry: str,
) -> None:
    """The CLI process builds aiohttp's unused default TLS contexts without reading the system
    CA bundle, looks for no pydantic plug-ins, collects its young objects less often and freezes
    what start-up built; an application embedding the tool keeps every default. SSL_CERT_FILE
    is as it was either way."""
    import ssl

    from tui_updater import process

    if entry == "embedded" and not ssl.get_default_verify_paths().cafile:
        pytest.skip("no system CA bundle to load")
    skipped = ("SSL_CERT_FILE", "PYDANTIC_DISABLE_PLUGINS")
    env = {k: v for k, v in os.environ.items() if k not in skipped}
    done = subprocess.run(
        [sys.executable, "-c", _DEFAULTS, entry],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    certificates, cert_file, plugins, young_every, frozen = json.loads(done.stdout)
    assert cert_file is None
    if entry == "own":
        assert certificates == 0 and plugins == "__all__"
        assert young_every == process.YOUNG_COLLECTION_EVERY and frozen > 0
    else:
        assert certificates > 0 and plugins is None
        assert young_every == 700 and frozen == 0  # CPython's defaults
