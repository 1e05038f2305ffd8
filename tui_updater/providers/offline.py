"""The offline provider: no network, deterministic (never random, no clock) content for demos and tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui_updater.core.models import TokenUsage
from tui_updater.providers.artwork import draw_avatar_png
from tui_updater.providers.base import MBTI_TYPES, Character, Generated, MbtiAnswer
from tui_updater.providers.language import Language, character_language
from tui_updater.providers.mbti import FIELD_WEIGHTS, MbtiVerdict, classify
from tui_updater.providers.prompts import MAX_FIELD_CHARS, clip

OFFLINE_MODEL = "offline"
_NO_USAGE = TokenUsage()  # records are frozen: every answer shares the one zero

# Speaking style by temperament (NT, NF, SJ, SP), per language.
_STYLES: dict[Language, dict[str, str]] = {
    "zh": {
        "NT": "说话简洁理性，喜欢追问“为什么”，常用比喻解释复杂的道理",
        "NF": "语气温和真诚，善于倾听，常用充满画面感的词句表达感受",
        "SJ": "措辞稳重有礼，条理清楚，喜欢用具体的例子和经验说明问题",
        "SP": "语气轻松直接，反应很快，常带一点幽默和即兴的玩笑",
    },
    "en": {
        "NT": "speaks concisely and logically, likes to ask 'why', explains hard ideas with analogies",
        "NF": "speaks warmly and sincerely, listens well, describes feelings with vivid images",
        "SJ": "speaks politely and steadily, in clear order, with concrete examples from experience",
        "SP": "speaks casually and directly, reacts fast, with a touch of humour and improvisation",
    },
}
_CATCHPHRASES: dict[Language, dict[str, tuple[str, str]]] = {
    "zh": {
        "NT": ("让我想想其中的逻辑。", "有意思，继续说。"),
        "NF": ("我懂你的感受。", "每个人心里都有一束光。"),
        "SJ": ("按计划来，一步一步。", "交给我吧，放心。"),
        "SP": ("走，试试看！", "想那么多干嘛？"),
    },
    "en": {
        "NT": ("Let me think about the logic of that.", "Interesting, go on."),
        "NF": ("I understand how you feel.", "Everyone carries a light inside."),
        "SJ": ("Let's stick to the plan, step by step.", "Leave it to me."),
        "SP": ("Come on, let's just try it!", "Why overthink it?"),
    },
}


def temperament(mbti_type: str) -> str:
    """NT, NF, SJ or SP for one of the 16 types."""
    if mbti_type[1] == "N":
        return "NT" if mbti_type[2] == "T" else "NF"
    return "SJ" if mbti_type[3] == "J" else "SP"


def _sentence(text: str, language: Language) -> str:
    text = text.strip()
    if not text:
        return ""
    end = "。" if language == "zh" else "."
    return text if text[-1] in "。！？.!?…" else text + end


def _verdict(character: Character) -> MbtiVerdict:
    verdict = classify({field: str(character.get(field) or "") for field in FIELD_WEIGHTS})
    assert verdict.mbti_type in MBTI_TYPES
    return verdict


@dataclass(frozen=True)
class _Sketch:
    """What every drafted field of one character is made from, worked out once per character."""

    language: Language
    mbti_type: str
    name: str
    description: str
    personality: str
    backstory: str
    style: str
    phrases: tuple[str, str]

    @classmethod
    def of(cls, character: Character, language: Language, mbti_type: str) -> _Sketch:
        zh = language == "zh"
        kind = temperament(mbti_type)
        return cls(
            language=language,
            mbti_type=mbti_type,
            name=clip(character.get("name"), 80) or ("这位角色" if zh else "This character"),
            description=_sentence(clip(character.get("description")), language),
            personality=clip(character.get("personality"), 400),
            backstory=_sentence(clip(character.get("backstory")), language),
            style=_STYLES[language][kind],
            phrases=_CATCHPHRASES[language][kind],
        )


class OfflineProvider:
    """ContentProvider without a network: lexicon MBTI, drafted settings, procedural avatars."""

    name = "offline"
    online = False
    chat_model = OFFLINE_MODEL
    image_model = OFFLINE_MODEL

    def __repr__(self) -> str:
        return "OfflineProvider()"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "online": False,
            "chatModel": OFFLINE_MODEL,
            "imageModel": OFFLINE_MODEL,
            "baseUrl": None,
        }

    async def aclose(self) -> None:
        return None

    def _generated(self, value: Any) -> Generated[Any]:
        return Generated(value, _NO_USAGE, OFFLINE_MODEL, offline=True)

    # --- MBTI ---------------------------------------------------------------------------------

    def mbti_of(self, character: Character) -> MbtiAnswer:
        """The lexicon's verdict for ``character`` (synchronous, for bulk use); never uses the id."""
        verdict = _verdict(character)
        return MbtiAnswer(verdict.mbti_type, verdict.confidence, verdict.reason)

    async def assign_mbti(self, character: Character) -> Generated[MbtiAnswer]:
        return self._generated(self.mbti_of(character))

    # --- settings -----------------------------------------------------------------------------

    def settings_of(self, character: Character, fields: Sequence[str]) -> dict[str, str]:
        """Drafts of ``fields`` from the character's own fields, in its language (synchronous)."""
        language = character_language(character)
        declared = str(character.get("mbtiType") or "").strip().upper()
        # Only the type is used: not the verdict's confidence and reason (worked out on asking).
        mbti_type = declared if declared in MBTI_TYPES else _verdict(character).mbti_type
        sketch = _Sketch.of(character, language, mbti_type)  # once for all the fields
        drafts: dict[str, str] = {}
        for field in dict.fromkeys(fields):
            text = self._draft(field, sketch)
            drafts[field] = (
                text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"
            )
        return drafts

    async def write_settings(
        self, character: Character, fields: Sequence[str]
    ) -> Generated[dict[str, str]]:
        return self._generated(self.settings_of(character, fields))

    def _draft(self, field: str, sketch: _Sketch) -> str:
        zh, language, mbti_type = sketch.language == "zh", sketch.language, sketch.mbti_type
        name, description, style = sketch.name, sketch.description, sketch.style
        personality, backstory = sketch.personality, sketch.backstory
        phrase_a, phrase_b = sketch.phrases
        if field == "fullDescription" or field == "description":
            if not description:
                opening = (
                    f"{name}是一位独特的角色。" if zh else f"{name} is a one-of-a-kind character."
                )
            elif name in description:
                opening = description
            else:
                opening = f"{name}——{description}" if zh else f"{name} — {description}"
            parts = [opening]
            if personality:
                parts.append(f"性格：{personality}。" if zh else f"Personality: {personality}.")
            parts.append(f"MBTI 类型为 {mbti_type}。" if zh else f"Their MBTI type is {mbti_type}.")
            if backstory:
                parts.append(f"过去：{backstory}" if zh else f"Background: {backstory}")
            return ("" if zh else " ").join(parts)
        if field == "speakingStyle":
            if zh:
                return f"{name}{style}。口头禅：“{phrase_a}”“{phrase_b}”"
            return f'{name} {style}. Catchphrases: "{phrase_a}" "{phrase_b}"'
        if field == "scenario":
            if zh:
                return f"你在一个平常的日子里遇见了{name}。{description or ''}你们开始聊天，{name}对你很好奇。"
            return f"You run into {name} on an ordinary day. {description or ''} You start talking, and {name} is curious about you.".replace(
                "  ", " "
            )
        if field == "exampleDialogs":
            return json.dumps(self._dialogs(name, language, phrase_a, phrase_b), ensure_ascii=False)
        if field == "firstMessage":
            return f"你好，我是{name}。{phrase_b}" if zh else f"Hello, I'm {name}. {phrase_b}"
        if field == "personality":
            return personality or (
                f"{mbti_type} 型性格：{style}" if zh else f"{mbti_type}: {style}"
            )
        if field == "backstory":
            return backstory or (
                f"{name}的过去鲜为人知。" if zh else f"Little is known about {name}'s past."
            )
        if field == "systemPrompt":
            if zh:
                return f"你扮演{name}。{description}说话风格：{style}。始终保持角色。"
            return (
                f"You play {name}. {description} Speaking style: {style}. Always stay in character."
            )
        return f"{name}：{description or style}" if zh else f"{name}: {description or style}"

    @staticmethod
    def _dialogs(
        name: str, language: Language, phrase_a: str, phrase_b: str
    ) -> list[dict[str, str]]:
        if language == "zh":
            return [
                {"user": "你好！", "character": f"你好呀，我是{name}。{phrase_b}"},
                {
                    "user": "你平时喜欢做什么？",
                    "character": f"嗯……{phrase_a}我喜欢做让自己觉得有意义的事。",
                },
                {
                    "user": "能给我一点建议吗？",
                    "character": f"当然。{phrase_a}先说说你遇到了什么吧。",
                },
            ]
        return [
            {"user": "Hi there!", "character": f"Hello, I'm {name}. {phrase_b}"},
            {
                "user": "What do you like to do?",
                "character": f"Hmm... {phrase_a} I like things that feel meaningful.",
            },
            {
                "user": "Could you give me some advice?",
                "character": f"Of course. {phrase_a} Tell me what happened first.",
            },
        ]

    # --- avatars ------------------------------------------------------------------------------

    def avatar_of(self, character: Character, size_px: int) -> bytes:
        """A deterministic PNG avatar for ``character`` (synchronous)."""
        declared = str(character.get("mbtiType") or "").strip().upper()
        return draw_avatar_png(
            str(character.get("id") or ""),
            str(character.get("name") or ""),
            declared if declared in MBTI_TYPES else None,
            size_px,
        )

    async def draw_avatar(self, character: Character, *, size_px: int) -> Generated[bytes]:
        return self._generated(self.avatar_of(character, size_px))
