"""What a task's token usage costs, from the per-model prices in the settings (pure data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_updater.core.models import TokenUsage

# model -> {"input": per 1M prompt tokens, "output": per 1M completion tokens, "request": each}
Prices = Mapping[str, Mapping[str, float]]


def task_model(
    data: Mapping[str, Any], params_schema: Mapping[str, Any], chat_model: str, image_model: str
) -> str:
    """The model a task is billed at: its own ``model`` parameter if it has one (image tasks
    declare it), else the gateway's chat model."""
    if "model" in (params_schema.get("properties") or {}):
        return str(data.get("model") or image_model)
    return chat_model


def cost_of(usage: TokenUsage, price: Mapping[str, float] | None) -> float | None:
    """The money ``usage`` costs at ``price``; None when no price is configured."""
    if not price:
        return None
    return (
        usage.prompt_tokens * float(price.get("input", 0.0)) / 1_000_000
        + usage.completion_tokens * float(price.get("output", 0.0)) / 1_000_000
        + usage.requests * float(price.get("request", 0.0))
    )


def spend_json(usage: TokenUsage, model: str, prices: Prices) -> dict[str, Any]:
    """Tokens, requests, the model and (when priced) the cost, for results and ``run --json``."""
    cost = cost_of(usage, prices.get(model))
    return {**usage.to_json(), "model": model, "cost": None if cost is None else round(cost, 6)}


def spend_text(usage: TokenUsage, cost: float | None) -> str:
    """``"12,345 tokens (9,000 in + 3,345 out) in 120 requests · cost 0.0123"``."""
    text = (
        f"{usage.total_tokens:,} tokens ({usage.prompt_tokens:,} in + "
        f"{usage.completion_tokens:,} out) in {usage.requests:,} request(s)"
    )
    return text if cost is None else f"{text} · cost {cost:.4f}"
