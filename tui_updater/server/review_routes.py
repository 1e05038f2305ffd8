"""REST routes of review mode: a task's proposals, accepted, rejected or edited one at a time,
the marked ones, or all that wait."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui_updater.core.proposals import ProposalStatus, ProposalView
from tui_updater.core.service import UpdaterService
from tui_updater.server.bodies import check_schema, query_values, read_object
from tui_updater.server.errors import invalid_field

PROPOSAL_STATUSES = tuple(ProposalStatus)
PROPOSAL_ID_PATTERN = "^[0-9]{1,18}$"
MAX_PROPOSAL_IDS = 100_000
PROPOSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["proposalId", "taskId", "characterId", "changes", "status"],
    "properties": {
        "proposalId": {"type": "integer"},
        "taskId": {"type": "string"},
        "itemKey": {"type": "string"},
        "characterId": {"type": "string"},
        "label": {"type": "string"},
        "changes": {
            "type": "object",
            "description": "field → [value the task first read, proposed value]",
        },
        "current": {"type": ["object", "null"], "description": "the fields' values now"},
        "files": {"type": ["object", "null"]},
        "status": {"type": "string", "enum": list(PROPOSAL_STATUSES)},
        "edited": {"type": "boolean"},
        "error": {"type": ["string", "null"]},
        "createdAt": {"type": "integer"},
        "updatedAt": {"type": "integer"},
    },
}
SETTLE_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Only these proposals (the marked ones); without it, every pending one",
    "properties": {
        "proposalIds": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PROPOSAL_IDS,
            "items": {"type": "integer", "minimum": 1, "maximum": 10**18},
        }
    },
}
EDIT_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["changes"],
    "additionalProperties": False,
    "properties": {
        "changes": {
            "type": "object",
            "minProperties": 1,
            "description": "field → the value to write instead of the proposed one",
        }
    },
}


def _service(request: Request) -> UpdaterService:
    service: UpdaterService = request.app.state.api.service
    return service


def _max_body(request: Request) -> int:
    limit: int = request.app.state.api.max_body_bytes
    return limit


def _task_id(request: Request) -> str:
    return str(request.path_params["task_id"])


def _proposal_id(request: Request) -> int:
    raw = str(request.path_params["proposal_id"])
    if not raw.isdigit() or len(raw) > 18:
        raise invalid_field("proposalId", "a proposal id is a whole number")
    return int(raw)


def _answer(proposals: list[ProposalView]) -> Response:
    return JSONResponse([p.to_json() for p in proposals])


async def list_proposals(request: Request) -> Response:
    status = query_values(request, "status", allowed=PROPOSAL_STATUSES)
    return _answer(await _service(request).list_proposals(_task_id(request), status=status))


async def _chosen_ids(request: Request) -> list[int] | None:
    body = await read_object(request, _max_body(request), required=False)
    check_schema(SETTLE_BODY_SCHEMA, body)
    ids = body.get("proposalIds")
    return None if ids is None else [int(i) for i in ids]


async def accept_all(request: Request) -> Response:
    ids = await _chosen_ids(request)
    return _answer(await _service(request).accept_proposals(_task_id(request), ids))


async def reject_all(request: Request) -> Response:
    ids = await _chosen_ids(request)
    return _answer(await _service(request).reject_proposals(_task_id(request), ids))


async def accept_one(request: Request) -> Response:
    proposal_id = _proposal_id(request)
    (proposal,) = await _service(request).accept_proposals(_task_id(request), [proposal_id])
    return JSONResponse(proposal.to_json())


async def reject_one(request: Request) -> Response:
    proposal_id = _proposal_id(request)
    (proposal,) = await _service(request).reject_proposals(_task_id(request), [proposal_id])
    return JSONResponse(proposal.to_json())


async def edit_one(request: Request) -> Response:
    proposal_id = _proposal_id(request)
    body = await read_object(request, _max_body(request), required=True)
    check_schema(EDIT_BODY_SCHEMA, body)
    proposal = await _service(request).edit_proposal(
        _task_id(request), proposal_id, body["changes"]
    )
    return JSONResponse(proposal.to_json())


Handler = Callable[[Request], Awaitable[Response]]
_BASE = "/api/tasks/{task_id}/proposals"
REVIEW_ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", _BASE, list_proposals, "A review-mode task's proposals beside the current values"),
    ("POST", f"{_BASE}/accept-all", accept_all, "Write every pending (or each given) proposal"),
    ("POST", f"{_BASE}/reject-all", reject_all, "Discard every pending (or each given) proposal"),
    ("PATCH", f"{_BASE}/{{proposal_id}}", edit_one, "Edit a pending proposal's values {changes}"),
    ("POST", f"{_BASE}/{{proposal_id}}/accept", accept_one, "Write one proposal (compare-and-set)"),
    ("POST", f"{_BASE}/{{proposal_id}}/reject", reject_one, "Discard one proposal"),
]
ONE_PROPOSAL_PATHS = frozenset(path for _, path, _, _ in REVIEW_ROUTES if "{proposal_id}" in path)
REVIEW_BODIES: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {
    ("POST", f"{_BASE}/accept-all"): (SETTLE_BODY_SCHEMA, False),
    ("POST", f"{_BASE}/reject-all"): (SETTLE_BODY_SCHEMA, False),
    ("PATCH", f"{_BASE}/{{proposal_id}}"): (EDIT_BODY_SCHEMA, True),
}
