"""Property-based fuzzing of every REST route: no 5xx, no crash, errors always in the JSON shape."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.conftest import demo_settings
from tui_updater.runtime import Runtime
from tui_updater.server.app import create_app
from tui_updater.server.routes import API_ROUTES

FUZZED_ROUTES = [
    (m, p) for m, p, _h, _s in API_ROUTES if p != "/api/queue/resume"
]  # keep the queue paused
QUICK_NAMES = ["character-avatars", "character-settings", "mbti-assignment", "database-upgrade"]
TYPE_NAMES = ["CHARACTER_AVATAR", "CHARACTER_SETTINGS", "MBTI_ASSIGNMENT", "DATABASE_UPGRADE"]
PARAM_NAMES = [
    "characterIds", "batchSize", "concurrency", "overwrite", "size", "model", "updateFields", "forceUpdate",
    "migrationScript", "backupBeforeUpgrade", "validateAfterUpgrade", "dryRun",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
plausible = st.one_of(
    json_values,
    st.integers(-5, 5000),
    st.lists(st.integers(-3, 10) | st.text(max_size=8), max_size=5),
    st.sampled_from(
        [
            "fullDescription",
            "speakingStyle",
            "../x.sql",
            "/etc/passwd",
            "a.sql",
            "SELECT 1;",
            "ALTER TABLE",
            "\x00",
            "nano",
            "512",
        ]
    ),
)
params = st.dictionaries(st.sampled_from(PARAM_NAMES) | st.text(max_size=10), plausible, max_size=5)
priorities: st.SearchStrategy[Any] = st.sampled_from(
    ["LOW", "normal", "High", "URGENT", 1, 4, 0, 5, -1, "9", "x", None, True, 2.5, [], {}]
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from([*TYPE_NAMES, "database-upgrade", "NOPE", "", "mbti"])
        | json_values,
        "priority": priorities,
        "data": params | json_values,
        "options": params,
        "extra": json_values,
    },
)
quick_bodies = params.flatmap(
    lambda p: st.fixed_dictionaries({}, optional={"priority": priorities}).map(
        lambda extra: {**p, **extra}
    )
)
bodies = st.one_of(
    envelopes.map(lambda b: json.dumps(b).encode()),
    quick_bodies.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda b: json.dumps(b).encode()),
    st.binary(max_size=60),
    st.sampled_from(
        [b"", b"{", b'{"type": NaN}', b"[" * 5000, b'{"a": 1e999}', b"\xff\xfe", b"9" * 6000]
    ),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/x-www-form-urlencoded",
    ]
)
path_ids = st.text(min_size=1, max_size=20).map(lambda t: quote(t, safe=""))
queries = st.dictionaries(
    st.sampled_from(["status", "type", "limit", "offset", "sort", "since", "level", "taskId"]),
    st.text(max_size=8) | st.integers(-5, 10**12).map(str),
    max_size=3,
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, str], bytes | None]:
    method, path = draw(st.sampled_from(FUZZED_ROUTES))
    path = path.replace("{task_id}", draw(path_ids)).replace(
        "{name}", draw(st.sampled_from(QUICK_NAMES) | path_ids)
    )
    body = draw(bodies) if method in ("POST", "DELETE") and draw(st.booleans()) else None
    headers = {"Content-Type": draw(content_types)} if body is not None else {}
    return method, path, draw(queries), headers, body


def test_no_route_answers_5xx_or_crashes(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    runtime = loop.run_until_complete(Runtime.open(demo_settings(tmp_path), synchronous="NORMAL"))
    loop.run_until_complete(runtime.service.pause())
    app = create_app(
        runtime.service, runtime.settings.server, migrations_dir=runtime.settings.migrations_dir
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:3002"
    )
    seen_statuses: set[int] = set()

    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(requests())
    def check(request: tuple[str, str, dict[str, str], dict[str, str], bytes | None]) -> None:
        method, path, query, headers, body = request
        response = loop.run_until_complete(
            client.request(method, path, params=query, headers=headers, content=body)
        )
        seen_statuses.add(response.status_code)
        assert response.status_code < 500, (method, path, query, body, response.text)
        payload: Any = response.json()
        if response.status_code >= 400:
            assert (
                set(payload["error"]) == {"code", "message", "details"}
                and payload["error"]["message"]
            )

    try:
        check()
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(runtime.close())
        loop.close()
    assert {200, 201} & seen_statuses and {400, 404, 422} & seen_statuses
