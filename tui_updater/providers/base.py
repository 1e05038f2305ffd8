"""The content-provider protocol: what task types ask of an LLM gateway or the offline provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from tui_updater.core.models import TokenUsage

T = TypeVar("T")

# Character fields are passed by logical name: id, name, description, fullDescription,
# personality, backstory, speakingStyle, scenario, exampleDialogs, firstMessage, mbtiType,
# language, tags, avatar, avatarStatus. Absent or NULL fields are None.
Character = Mapping[str, Any]

MBTI_TYPES: tuple[str, ...] = (
    "INTJ", "INTP", "ENTJ", "ENTP", "INFJ", "INFP", "ENFJ", "ENFP",
    "ISTJ", "ISFJ", "ESTJ", "ESFJ", "ISTP", "ISFP", "ESTP", "ESFP",
)  # fmt: skip

MBTI_GROUPS: dict[str, tuple[str, ...]] = {
    "Analysts": ("INTJ", "INTP", "ENTJ", "ENTP"),
    "Diplomats": ("INFJ", "INFP", "ENFJ", "ENFP"),
    "Sentinels": ("ISTJ", "ISFJ", "ESTJ", "ESFJ"),
    "Explorers": ("ISTP", "ISFP", "ESTP", "ESFP"),
}


def mbti_group(mbti_type: str) -> str | None:
    for group, types in MBTI_GROUPS.items():
        if mbti_type in types:
            return group
    return None


@dataclass(frozen=True)
class Generated(Generic[T]):
    """A provider's answer with what it cost."""

    value: T
    usage: TokenUsage = field(default_factory=TokenUsage)
    model: str = ""
    offline: bool = False


@dataclass(frozen=True)
class MbtiAnswer:
    mbti_type: str  # one of MBTI_TYPES
    confidence: float  # 0..1
    reason: str  # one line


class ContentProvider(Protocol):
    """Generates character content. Errors are tui_updater.errors ItemError subclasses."""

    name: str  # "offline" or the gateway host
    online: bool
    chat_model: str
    image_model: str

    async def assign_mbti(self, character: Character) -> Generated[MbtiAnswer]: ...

    async def write_settings(
        self, character: Character, fields: Sequence[str]
    ) -> Generated[dict[str, str]]:
        """Exactly ``fields`` (logical names), non-empty, in the character's language."""

    async def draw_avatar(self, character: Character, *, size_px: int) -> Generated[bytes]:
        """Raw image bytes (PNG/JPEG/WebP); the caller checks and normalises them."""

    async def aclose(self) -> None: ...

    def describe(self) -> dict[str, Any]:
        """Name, online flag and models, for status displays (never the key)."""
