"""The Character Card V2 and V3 documents as pydantic models: a card is validated strictly, so a
malformed one is refused naming the field (specs: malfoyslastname/character-card-spec-v2,
kwaroran/character-card-spec-v3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tui_updater.errors import InvalidParameters

SPEC_V2, SPEC_V3 = "chara_card_v2", "chara_card_v3"
MAX_TEXT_CHARS = 1_000_000  # one field of a card; real cards stay far below


class _Strict(BaseModel):
    # Unknown keys are kept (the specs let applications add them); types are never coerced.
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


Text = Field(default="", max_length=MAX_TEXT_CHARS)


class CharacterBook(_Strict):
    """A lorebook: carried through as given (the site has no place for it but extensions)."""

    entries: list[dict[str, Any]] = Field(default_factory=list)


class CardDataV2(_Strict):
    """The ``data`` object of a V2 card: every field of the spec is required there."""

    name: str = Field(min_length=1, max_length=1000)
    description: str = Field(max_length=MAX_TEXT_CHARS)
    personality: str = Field(max_length=MAX_TEXT_CHARS)
    scenario: str = Field(max_length=MAX_TEXT_CHARS)
    first_mes: str = Field(max_length=MAX_TEXT_CHARS)
    mes_example: str = Field(max_length=MAX_TEXT_CHARS)
    creator_notes: str = Text
    system_prompt: str = Text
    post_history_instructions: str = Text
    alternate_greetings: list[str] = Field(default_factory=list)
    character_book: CharacterBook | None = None
    tags: list[str] = Field(default_factory=list)
    creator: str = Text
    character_version: str = Text
    extensions: dict[str, Any] = Field(default_factory=dict)


class CardV2(_Strict):
    spec: Literal["chara_card_v2"]
    spec_version: Literal["2.0"]
    data: CardDataV2


class Asset(_Strict):
    type: str
    uri: str
    name: str
    ext: str


class CardDataV3(CardDataV2):
    """The ``data`` object of a V3 card: V2's fields plus the V3 additions."""

    group_only_greetings: list[str] = Field(default_factory=list)
    nickname: str | None = None
    creator_notes_multilingual: dict[str, str] | None = None
    source: list[str] | None = None
    creation_date: int | None = None  # unix seconds
    modification_date: int | None = None
    assets: list[Asset] | None = None


class CardV3(_Strict):
    spec: Literal["chara_card_v3"]
    spec_version: str = Field(pattern=r"^3\.\d+$")
    data: CardDataV3


Card = CardV2 | CardV3


def parse_card(document: Any, source: str) -> Card:
    """Validate a decoded card; InvalidParameters naming ``source`` and the first bad field."""
    if not isinstance(document, dict):
        raise InvalidParameters(source, "a card is a JSON object")
    spec = document.get("spec")
    model: type[CardV2] | type[CardV3]
    if spec == SPEC_V3:
        model = CardV3
    elif spec == SPEC_V2:
        model = CardV2
    elif "spec" not in document:
        raise InvalidParameters(f"{source}: spec", f"missing (expected {SPEC_V2} or {SPEC_V3})")
    else:
        raise InvalidParameters(f"{source}: spec", f"{spec!r} is not {SPEC_V2} or {SPEC_V3}")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err.get("loc", ()))
        raise InvalidParameters(f"{source}: {where}", str(err.get("msg", "invalid"))) from None
