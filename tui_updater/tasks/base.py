"""The task-type API: a parameter schema, item selection, per-item work and a summary.

A type turns its validated parameters into items (``select``), obtains each item's result
(``obtain``: the slow or paid step, retried by the engine on transient errors), then applies
results in batches (``apply``: the write). The engine stores an item's result before applying it,
so after a crash an obtained result is applied, never requested again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from tui_updater.core.capabilities import CAPABILITIES_KEY, TaskCapabilities
from tui_updater.core.models import NO_USAGE, ItemRecord, ItemStatus, TokenUsage
from tui_updater.core.proposals import REVIEW_PENDING_KEY, ProposalRecord, ProposalView
from tui_updater.errors import InvalidParameters, TaskStateError


def _declare_capabilities(schema: dict[str, Any], model: type[BaseModel]) -> None:
    capabilities = getattr(model, "capabilities", None)
    if isinstance(capabilities, TaskCapabilities):
        schema[CAPABILITIES_KEY] = capabilities.schema_entry()


class TaskParams(BaseModel):
    """Base of every parameter schema: unknown fields are refused, and values are strict.

    Strict means a JSON value must already have the declared type: ``"5"`` is not an integer and
    ``"off"`` is not a boolean (a coerced ``"dryRun": "off"`` would run a live migration). The
    form and the one-shot command turn their own text into typed values before submitting.
    A type's ``capabilities`` travel in the JSON schema, so the views learn what is special about
    a type (destructive, makes backups, its short name) from the schema, not from its name.
    """

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        strict=True,
        json_schema_extra=_declare_capabilities,
    )
    capabilities: ClassVar[TaskCapabilities] = TaskCapabilities()

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # NUL is never meaningful in a name, a path or SQL text, and it breaks paths and C APIs.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


P = TypeVar("P", bound=TaskParams)

# A result that took at least this long to obtain is taken for a paid or remote one (see
# ``TaskType.stored_before_apply``).
COSTLY_OBTAIN_S = 0.02


def _declared(params: TaskParams, name: str) -> Any:
    """A field's value if the schema declares it, else None (a missed ``getattr`` on a pydantic
    model builds and raises an AttributeError: costly once per task)."""
    return getattr(params, name) if name in type(params).__pydantic_fields__ else None


@dataclass(frozen=True)
class ItemSpec:
    """An item to create for a task: its key (character id as text) and a label to show."""

    key: str
    label: str = ""


@dataclass(frozen=True)
class ItemOutcome:
    """What applying one item's result did."""

    key: str
    status: ItemStatus  # DONE, SKIPPED, CONFLICT or FAILED
    error: str | None = None
    result: dict[str, Any] | None = None  # replaces the stored result when given


class Releasable(Protocol):
    def release(self) -> None: ...


@dataclass
class TaskContext:
    """What a task type's methods may use while running one task."""

    task_id: str
    resources: Any  # the runtime's TaskResources (characters, provider, backups, settings)
    log: Callable[[str, str], None]  # (level, message)
    usage: TokenUsage = NO_USAGE  # frozen: add_usage replaces it, so all may share the zero
    attempt: int = 1
    result: dict[str, Any] | None = None  # the finished task's result (set for revert)
    # Holds an item keeps from a transient mark until the write that settles it (item key →
    # lease); whatever is still held when the attempt ends is released then.
    leases: dict[str, Releasable] = field(default_factory=dict)

    def info(self, message: str) -> None:
        self.log("INFO", message)

    def warning(self, message: str) -> None:
        self.log("WARNING", message)

    def add_usage(self, usage: TokenUsage) -> None:
        if usage.requests or usage.prompt_tokens or usage.completion_tokens:
            self.usage = self.usage + usage

    def release(self, keys: Iterable[str] | None = None) -> None:
        """Release the leases of ``keys`` (all when None)."""
        for key in list(self.leases) if keys is None else keys:
            lease = self.leases.pop(key, None)
            if lease is not None:
                lease.release()


_JSON_TYPE_NAMES = {
    bool: "a boolean",
    int: "a number",
    float: "a number with a decimal point",
    str: "a string",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


def json_type(value: object) -> str:
    """What a decoded JSON value is, for messages ("a string", "a boolean")."""
    return _JSON_TYPE_NAMES.get(type(value), "another type")


def _error_message(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "value_error":  # our validators' own sentence, without pydantic's prefix
        return str(err.get("ctx", {}).get("error", err.get("msg", "invalid")))
    message = str(err.get("msg", "invalid"))
    if kind.endswith("_type") or kind.endswith("_parsing"):
        given = err.get("input")
        message += f", got {json_type(given)}"
        if isinstance(given, str) and kind in ("bool_type", "int_type"):
            message += " (JSON numbers and true/false go without quotes)"
    return message


def format_validation_error(exc: ValidationError) -> InvalidParameters:
    """Turn a pydantic error into InvalidParameters naming the first bad field."""
    details = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ()))
        details.append({"field": loc, "message": _error_message(err)})
    first = details[0] if details else {"field": "", "message": "invalid parameters"}
    return InvalidParameters(first["field"], first["message"], details=details)


@cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


class TaskType(ABC, Generic[P]):
    """Base class of a task type. Subclass, set the class attributes, register it."""

    name: ClassVar[str]  # "MBTI_ASSIGNMENT"
    title: ClassVar[str]  # "MBTI assignment"
    description: ClassVar[str] = ""
    params_model: ClassVar[type[TaskParams]]
    default_priority: ClassVar[str] = "NORMAL"

    def parse_params(self, data: Mapping[str, Any] | None) -> P:
        """Validate raw parameters; raise InvalidParameters naming the field."""
        try:
            return self.params_model.model_validate(dict(data or {}))  # type: ignore[return-value]
        except ValidationError as exc:
            raise format_validation_error(exc) from None

    def params_schema(self) -> dict[str, Any]:
        """The parameters' JSON Schema: built once per model (it takes ~0.8 ms), shared, so
        callers treat it as read-only (the OpenAPI builder copies before it rewrites)."""
        return _json_schema(self.params_model)

    @property
    def capabilities(self) -> TaskCapabilities:
        return self.params_model.capabilities

    def batch_size(self, params: P) -> int:
        return max(1, int(_declared(params, "batchSize") or 25))

    def write_group_size(self, params: P) -> int:
        """How many obtained results one ``apply`` call may be given when more than a batch is
        ready: ``batch_size``, unless the type splits its writes into batches itself."""
        return self.batch_size(params)

    def concurrency(self, params: P) -> int:
        return max(1, int(_declared(params, "concurrency") or 4))

    async def check(self, ctx: TaskContext, params: P) -> None:
        """Creation-time checks beyond the schema (ids exist, files readable); raise InvalidParameters."""

    @abstractmethod
    async def select(self, ctx: TaskContext, params: P) -> Sequence[ItemSpec]:
        """The items this task works on, decided once when it first starts."""

    async def count(self, ctx: TaskContext, params: P) -> int:
        """How many items ``select`` would give now (types override it with a cheap COUNT)."""
        return len(await self.select(ctx, params))

    @abstractmethod
    async def obtain(self, ctx: TaskContext, params: P, item: ItemRecord) -> dict[str, Any]:
        """Produce one item's result (JSON-serialisable). Raise TransientError/PermanentError."""

    @abstractmethod
    async def apply(
        self, ctx: TaskContext, params: P, batch: Sequence[tuple[ItemRecord, dict[str, Any]]]
    ) -> Sequence[ItemOutcome]:
        """Write a batch of obtained results; return one outcome per item, in any order."""

    async def claim(
        self, ctx: TaskContext, params: P, items: Sequence[ItemRecord]
    ) -> Sequence[ItemRecord]:
        """Before the unfinished items are worked (each start of the task): claim what they will
        write; return the items this changed (ended, or given the values they first saw)."""
        return ()

    async def read_ahead(self, ctx: TaskContext, params: P, items: Sequence[ItemRecord]) -> None:
        """Called with the next items to be obtained, a few hundred at a time, before their
        ``obtain`` calls: a type may read what they need in one go. Nothing by default."""

    def stored_before_apply(self, result: Mapping[str, Any], elapsed_s: float) -> bool:
        """Whether an obtained result is stored at once, before it is applied, so a crash never
        repeats the work that made it. By default: what took COSTLY_OBTAIN_S or longer."""
        return elapsed_s >= COSTLY_OBTAIN_S

    async def resume(self, ctx: TaskContext, params: P, obtained: Sequence[ItemRecord]) -> None:
        """Called when a task restarts with obtained-but-unapplied items: settle half-done writes."""

    async def revert(self, ctx: TaskContext, params: P) -> dict[str, Any]:
        """Undo what this task wrote (compare-and-set); return a report."""
        raise TaskStateError(f"{self.name} tasks cannot be reverted")

    # Review mode (tasks/review.py): a type that stores proposals instead of writing settles them.

    async def accept_proposals(
        self, ctx: TaskContext, params: P, proposals: Sequence[ProposalRecord]
    ) -> Sequence[ProposalRecord]:
        """Write accepted proposals as apply would; return them ACCEPTED or CONFLICT."""
        raise TaskStateError(f"{self.name} tasks have no review")

    async def discard_proposals(
        self, ctx: TaskContext, params: P, proposals: Sequence[ProposalRecord]
    ) -> None:
        """Remove what rejected proposals left behind (their files)."""

    async def view_proposals(
        self, ctx: TaskContext, params: P, proposals: Sequence[ProposalRecord]
    ) -> list[ProposalView]:
        """The proposals with the current values of their fields."""
        return [ProposalView(**p.__dict__) for p in proposals]

    def edit_proposal(
        self, params: P, proposal: ProposalRecord, values: Mapping[str, Any]
    ) -> ProposalRecord:
        """The proposal with the operator's values, validated like the type's output."""
        raise TaskStateError(f"{self.name} tasks have no review")

    def summarize(self, params: P, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """The task's result from its finished items; ``done`` counts written items only, and
        a review-mode task's proposals are counted apart."""
        counts: dict[str, int] = {}
        proposed = 0
        for item in items:
            if item.status is ItemStatus.DONE and item.result and item.result.get("proposed"):
                proposed += 1
                continue
            counts[item.status.value] = counts.get(item.status.value, 0) + 1
        summary: dict[str, Any] = {
            "success": counts.get("FAILED", 0) == 0,
            "total": len(items),
            "done": counts.get("DONE", 0),
            "failed": counts.get("FAILED", 0),
            "skipped": counts.get("SKIPPED", 0),
            "conflicts": counts.get("CONFLICT", 0),
        }
        if proposed:
            summary["proposed"] = proposed
            summary[REVIEW_PENDING_KEY] = proposed
            summary["message"] = f"{proposed} proposal{'s' if proposed != 1 else ''} wait"
        return summary
