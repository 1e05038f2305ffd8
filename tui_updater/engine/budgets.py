"""The budget check of a run: before each request, would it pass ``maxTokens`` / ``maxCost``?

The runner asks ``BudgetGuard.stops`` before it starts obtaining an item; once it says yes the
run takes no further item, finishes what is in flight and ends with ``BudgetReached``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_updater.core.budget import Budget, UsageHistory, per_item_usage
from tui_updater.core.models import TaskRecord, TokenUsage
from tui_updater.core.pricing import task_model
from tui_updater.core.store import TaskStore
from tui_updater.errors import BudgetReached


class BudgetGuard:
    """One run's budget and what it has decided (``reason`` once it stopped the run)."""

    def __init__(self, budget: Budget, history: TokenUsage | None):
        self.budget = budget
        self.history = history
        self.reason: str | None = None

    def stops(self, spent: TokenUsage, costed_items: int, in_flight: int) -> bool:
        """True when the next request would pass the budget (and from then on)."""
        if self.reason is None:
            per_item, _source = per_item_usage(spent, costed_items, self.history)
            self.reason = self.budget.refusal(spent, in_flight, per_item)
        return self.reason is not None


def model_price(
    resources: Any, data: Mapping[str, Any], params_schema: Mapping[str, Any]
) -> tuple[str, Mapping[str, float] | None]:
    """The model a task with ``data`` is billed at, and its configured price (None if none)."""
    settings = getattr(resources, "settings", None)
    provider = getattr(resources, "provider", None)
    prices = settings.provider.prices if settings is not None else {}
    model = task_model(
        data,
        params_schema,
        str(getattr(provider, "chat_model", "")),
        str(getattr(provider, "image_model", "")),
    )
    return model, prices.get(model)


def has_budget(params: Any) -> bool:
    """Whether the parameters set ``maxTokens`` or ``maxCost`` (most runs: no guard to build).

    Read from the values, not by ``getattr``: a missed attribute on a pydantic model builds and
    raises an AttributeError, twice per task for a type without budget fields."""
    values = getattr(params, "__dict__", {})
    return values.get("maxTokens") is not None or values.get("maxCost") is not None


async def budget_guard(
    task: TaskRecord, params: Any, params_schema: dict[str, Any], store: TaskStore, resources: Any
) -> BudgetGuard | None:
    """The guard for a run whose parameters carry a budget, else None."""
    if not has_budget(params):
        return None
    max_tokens = getattr(params, "maxTokens", None)
    max_cost = getattr(params, "maxCost", None)
    price = None
    if max_cost is not None:
        model, price = model_price(resources, task.data, params_schema)
        if not price:
            raise BudgetReached(
                f"maxCost needs a price for model {model!r} (provider.prices in config.toml)"
            )
    history = await store.usage_per_item(task.type) if isinstance(store, UsageHistory) else None
    return BudgetGuard(
        Budget(max_tokens=max_tokens, max_cost=max_cost, price=dict(price or {}) or None), history
    )
