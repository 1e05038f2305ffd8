"""The offline MBTI classifier: a bilingual trait lexicon read in context, scored per axis."""

from __future__ import annotations

from tui_updater.providers.mbti.scorer import FIELD_WEIGHTS, AxisVerdict, MbtiVerdict, classify

__all__ = ["FIELD_WEIGHTS", "AxisVerdict", "MbtiVerdict", "classify"]
