"""Site character rows ↔ card data: which column becomes which card field, what travels in the
card's ``extensions``, and what a card becomes as a new row.

Card fields with a site column map to it (name, description, personality, scenario, first_mes,
mes_example, system_prompt, tags). Every other content column travels under
``extensions.tavernai_plus`` by its real column name (MBTI, language, backstory…), so a card
exported here and imported into a database of the same schema gives back the same character.
Ids, owner, media paths, statuses, counters and timestamps are the site's own and never travel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tui_updater.cards.models import SPEC_V2, SPEC_V3, Card, CardV3
from tui_updater.characters.schema import CharacterSchema
from tui_updater.characters.timestamps import instant_of

EXTENSION_KEY = "tavernai_plus"
# Card data field → logical field of the character table.
CARD_TO_LOGICAL: dict[str, str] = {
    "name": "name",
    "description": "description",
    "personality": "personality",
    "scenario": "scenario",
    "first_mes": "firstMessage",
    "mes_example": "exampleDialogs",
    "tags": "tags",
}
# Card fields the schema's logical map does not know: real column names tried in order.
CARD_TO_COLUMNS: dict[str, tuple[str, ...]] = {
    "system_prompt": ("systemPrompt", "system_prompt"),
    "creator_notes": ("creatorNotes", "creator_notes"),
}
OWNER_COLUMNS = ("userId", "user_id", "ownerId", "owner_id")
# The site's own bookkeeping: never exported, never imported from a card.
_SITE_ONLY = {
    name.lower()
    for name in (
        "id", *OWNER_COLUMNS, "avatar", "avatarStatus", "avatar_status", "backgroundStatus",
        "emotionStatus", "coverImage", "backgroundImage", "emotionPack", "created_at",
        "createdAt", "updated_at", "updatedAt", "isDeleted", "is_deleted", "rating",
        "rating_count", "chat_count", "favorite_count", "is_featured",
    )
}  # fmt: skip
_USER, _CHAR = "{{user}}:", "{{char}}:"


def real_column(schema: CharacterSchema, card_field: str) -> str | None:
    """The character table's column for a card field, or None when it has none."""
    logical = CARD_TO_LOGICAL.get(card_field)
    if logical is not None:
        return schema.columns.get(logical)
    by_lower = {name.lower(): name for name in schema.declared_types}
    for candidate in CARD_TO_COLUMNS.get(card_field, ()):
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def owner_column(schema: CharacterSchema) -> str | None:
    by_lower = {name.lower(): name for name in schema.declared_types}
    for candidate in OWNER_COLUMNS:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def _mapped_columns(schema: CharacterSchema) -> dict[str, str]:
    """Real column → card field, for the card fields this table has."""
    out: dict[str, str] = {}
    for card_field in (*CARD_TO_LOGICAL, *CARD_TO_COLUMNS):
        column = real_column(schema, card_field)
        if column is not None:
            out[column] = card_field
    return out


def _travelling(schema: CharacterSchema) -> list[str]:
    """Content columns without a card field: they go in the card's extension."""
    mapped = _mapped_columns(schema)
    site = {schema.columns[name] for name in ("avatar", "avatarStatus") if schema.has(name)}
    for name in ("id", "updatedAt", "createdAt", "isDeleted"):
        if schema.has(name):
            site.add(schema.columns[name])
    return [
        column
        for column, declared in schema.declared_types.items()
        if column not in mapped
        and column not in site
        and column.lower() not in _SITE_ONLY
        and "BLOB" not in declared
    ]


def render_dialogs(pairs: list[dict[str, str]]) -> str:
    """Example dialogs in the card's ``<START>`` / ``{{user}}:`` / ``{{char}}:`` form."""
    return "\n".join(f"<START>\n{_USER} {p['user']}\n{_CHAR} {p['character']}" for p in pairs)


def parse_dialogs(text: str) -> list[dict[str, str]] | None:
    """``<START>`` blocks of alternating user and character lines as pairs; None when the text
    is not in exactly that form (it is then kept as written)."""
    messages: list[list[str]] = []
    for line in text.split("\n"):
        if line == "<START>":
            continue
        for speaker, prefix in (("user", _USER), ("character", _CHAR)):
            if line.startswith(prefix):
                messages.append([speaker, line[len(prefix) :].removeprefix(" ")])
                break
        else:
            if not messages:
                return None
            messages[-1][1] += "\n" + line
    if not messages or len(messages) % 2:
        return None
    pairs = []
    for user, character in zip(messages[::2], messages[1::2], strict=True):
        if user[0] != "user" or character[0] != "character":
            return None
        pairs.append({"user": user[1], "character": character[1]})
    return pairs


def _dialog_pairs(raw: str) -> list[dict[str, str]] | None:
    """The site's stored dialogs as pairs when rendering them loses nothing, else None."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(value, list) or not value:
        return None
    if not all(
        isinstance(p, dict)
        and set(p) == {"user", "character"}
        and all(isinstance(v, str) for v in p.values())
        for p in value
    ):
        return None
    if (
        json.dumps(value, ensure_ascii=False) != raw
        or parse_dialogs(render_dialogs(value)) != value
    ):
        return None
    return value


def _tags(raw: Any) -> list[str] | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        if json.dumps(value, ensure_ascii=False) == raw:
            return value
    return None


def card_data(
    schema: CharacterSchema, row: Mapping[str, Any], *, creator: str = "", v3: bool
) -> dict[str, Any]:
    """The card ``data`` object of one row (real column → value)."""
    mapped = _mapped_columns(schema)
    data: dict[str, Any] = {
        "name": "", "description": "", "personality": "", "scenario": "", "first_mes": "",
        "mes_example": "", "creator_notes": "", "system_prompt": "",
        "post_history_instructions": "", "alternate_greetings": [], "tags": [],
        "creator": creator, "character_version": "", "extensions": {},
    }  # fmt: skip
    extension: dict[str, Any] = {}
    for column, card_field in mapped.items():
        value = row.get(column)
        if value is None:
            continue
        if card_field == "tags":
            tags = _tags(value)
            if tags is None:
                extension[column] = value  # not a JSON list of strings: kept as stored
            else:
                data["tags"] = tags
        elif card_field == "mes_example":
            pairs = _dialog_pairs(str(value))
            data["mes_example"] = str(value) if pairs is None else render_dialogs(pairs)
        else:
            data[card_field] = str(value)
    for column in _travelling(schema):
        value = row.get(column)
        if isinstance(value, str | int | float | bool) or value is None:
            extension[column] = value
    version_column = next((c for c in schema.declared_types if c.lower() == "version"), None)
    if version_column is not None and row.get(version_column) is not None:
        data["character_version"] = str(row[version_column])
    data["extensions"] = {EXTENSION_KEY: extension}
    if v3:
        data["group_only_greetings"] = []
        for key, logical in (("creation_date", "createdAt"), ("modification_date", "updatedAt")):
            instant = instant_of(row.get(schema.columns[logical])) if schema.has(logical) else None
            if instant is not None:
                data[key] = instant // 1000
    return data


def card_document(data: dict[str, Any], *, v3: bool) -> dict[str, Any]:
    if v3:
        return {"spec": SPEC_V3, "spec_version": "3.0", "data": data}
    v2 = {k: v for k, v in data.items() if k not in _V3_ONLY}
    return {"spec": SPEC_V2, "spec_version": "2.0", "data": v2}


_V3_ONLY = frozenset(
    ("group_only_greetings", "nickname", "creator_notes_multilingual", "source",
     "creation_date", "modification_date", "assets")
)  # fmt: skip


class CardRow:
    """What a card becomes in a table: real column → value, and what had no place there."""

    def __init__(self, values: dict[str, Any], dropped: list[str]) -> None:
        self.values = values
        self.dropped = dropped


def row_of(schema: CharacterSchema, card: Card, notnull: set[str]) -> CardRow:
    """The new row's content columns for ``card`` (no id, owner or timestamps); ``notnull`` are
    the table's NOT NULL columns (an empty card text stays "" there, else becomes NULL)."""
    data = card.data
    values: dict[str, Any] = {}
    dropped: list[str] = []
    for card_field in (*CARD_TO_LOGICAL, *CARD_TO_COLUMNS):
        given: Any = getattr(data, card_field)
        column = real_column(schema, card_field)
        if column is None:
            if given:
                dropped.append(card_field)
            continue
        if card_field == "tags":
            values[column] = json.dumps(list(given), ensure_ascii=False)
        elif card_field == "mes_example":
            pairs = parse_dialogs(given) if given else None
            values[column] = json.dumps(pairs, ensure_ascii=False) if pairs else given
        else:
            values[column] = given
        if values[column] == "" and column not in notnull:
            values[column] = None
    extension = data.extensions.get(EXTENSION_KEY)
    if isinstance(extension, dict):
        travelling = {c.lower(): c for c in _travelling(schema)} | {
            c.lower(): c for c in _mapped_columns(schema)
        }
        for key, value in extension.items():
            column = travelling.get(str(key).lower())
            if column is None or not (isinstance(value, str | int | float | bool) or value is None):
                dropped.append(f"extensions.{EXTENSION_KEY}.{key}")
                continue
            values[column] = value
    for key in ("character_book", "alternate_greetings", "post_history_instructions"):
        if getattr(data, key):
            dropped.append(key)
    if isinstance(card, CardV3) and card.data.group_only_greetings:
        dropped.append("group_only_greetings")
    return CardRow(values, dropped)
