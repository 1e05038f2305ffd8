"""Record: construction (positional, validated, by field name), evolve, trusted, frozen."""

from __future__ import annotations

import pydantic
import pytest

from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.core.models import ItemRecord, ItemStatus, TokenUsage
from tui_updater.core.service import ServiceInfo, TaskTypeInfo


def test_positional_arguments_fill_fields_in_declaration_order() -> None:
    assert ItemRecord("t", 1, "k", "label") == ItemRecord(
        task_id="t", seq=1, key="k", label="label"
    )


def test_too_many_or_doubled_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="at most 3"):
        TokenUsage(1, 2, 3, 4)
    with pytest.raises(TypeError, match="two values for 'seq'"):
        ItemRecord("t", 1, "k", "label", seq=2)


def test_construction_validates_types() -> None:
    with pytest.raises(pydantic.ValidationError, match="seq"):
        ItemRecord("t", "first", "k", "label")
    assert ItemRecord("t", 1, "k", "label", status="DONE").status is ItemStatus.DONE


def test_python_construction_goes_by_field_name_never_by_json_key() -> None:
    info = TaskTypeInfo(
        name="MBTI_ASSIGNMENT", title="MBTI assignment", description="", params_schema={}
    )
    assert (info.name, info.title) == ("MBTI_ASSIGNMENT", "MBTI assignment")
    with pytest.raises(pydantic.ValidationError):
        ItemRecord(taskId="t", seq=1, key="k", label="label")


def test_records_are_frozen() -> None:
    item = ItemRecord("t", 1, "k", "label")
    with pytest.raises(pydantic.ValidationError):
        item.seq = 2  # type: ignore[misc]


def test_evolve_copies_with_changes_and_checks_names() -> None:
    entry = JournalEntry("t", "k", "c", "mbtiType", None, "INTJ")
    applied = entry.evolve(state=JournalState.APPLIED, entry_id=7)
    assert (applied.state, applied.entry_id, applied.new_value) == (JournalState.APPLIED, 7, "INTJ")
    assert entry.state is JournalState.PLANNED
    with pytest.raises(TypeError, match="no field 'colour'"):
        entry.evolve(colour="red")


def test_trusted_needs_exactly_the_fields() -> None:
    assert TokenUsage.trusted(prompt_tokens=1, completion_tokens=2, requests=1) == TokenUsage(
        1, 2, 1
    )
    with pytest.raises(TypeError, match="exactly its fields"):
        TokenUsage.trusted(prompt_tokens=1)


def test_token_usage_sums_and_totals() -> None:
    total = TokenUsage(1, 2, 1) + TokenUsage(10, 20, 1)
    assert (total, total.total_tokens) == (TokenUsage(11, 22, 2), 33)


def test_service_info_keeps_keys_it_does_not_know() -> None:
    data = {
        "database": "db",
        "demo": False,
        "provider": "offline",
        "online": False,
        "chatModel": "c",
        "imageModel": "i",
        "version": "v",
        "remote": None,
        "uptime": 3.5,
    }
    info = ServiceInfo.from_json(data)
    assert info.extra == {"uptime": 3.5}
    assert info.evolve(remote="http://h").to_json() == {**data, "remote": "http://h"}


def test_a_record_is_built_on_first_use_and_then_validates_as_any_other() -> None:
    # Records defer their validator (defer_build): a process builds only the ones it uses.
    from tui_updater.core.record import Record

    class Late(Record):
        count: int
        label: str = "x"

    assert not Late.__pydantic_complete__
    with pytest.raises(pydantic.ValidationError, match="count"):
        Late("three")
    assert Late.__pydantic_complete__
    assert Late(3).to_json() == {"count": 3, "label": "x"}
    assert Late.from_json({"count": 4}).count == 4
