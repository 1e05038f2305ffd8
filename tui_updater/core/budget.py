"""Task budgets: ``maxTokens`` / ``maxCost``, and the estimate of what the next request costs.

A run stops before the request that would pass its budget: what it has spent, plus what its
requests in flight are expected to cost, plus one more request's estimate. The estimate per
item is measured: this run's own average once it has obtained items, else the type's average
over past tasks in tasks.db, else ``DEFAULT_USAGE_PER_ITEM``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from tui_updater.core.models import TokenUsage
from tui_updater.core.pricing import cost_of
from tui_updater.core.record import Record

# Used until a type has finished items to measure: a chat request of a character prompt and a
# long-form answer, about what the settings type spends per character on a NewAPI gateway.
DEFAULT_USAGE_PER_ITEM = TokenUsage(prompt_tokens=700, completion_tokens=500, requests=1)


@runtime_checkable
class UsageHistory(Protocol):
    """What past tasks of a type spent per item (tasks.db)."""

    async def usage_per_item(self, type_name: str) -> TokenUsage | None:
        """The average usage per finished item over the type's finished tasks; None if none."""


class Budget(Record):
    """A task's limits and the price of its model (None when unpriced)."""

    max_tokens: int | None = None
    max_cost: float | None = None
    price: dict[str, float] | None = None

    @property
    def limited(self) -> bool:
        return self.max_tokens is not None or self.max_cost is not None

    def refusal(self, spent: TokenUsage, reserved: int, per_item: TokenUsage) -> str | None:
        """Why one more request must not start ("budget reached: …"), or None.

        ``reserved`` requests are in flight, each expected to cost ``per_item``."""
        coming = reserved + 1
        if self.max_tokens is not None:
            expected = spent.total_tokens + coming * per_item.total_tokens
            if expected > self.max_tokens:
                return f"budget reached: {spent.total_tokens:,} tokens of {self.max_tokens:,}"
        if self.max_cost is not None:
            spent_cost = cost_of(spent, self.price) or 0.0
            each = cost_of(per_item, self.price) or 0.0
            if spent_cost + coming * each > self.max_cost:
                return f"budget reached: cost {spent_cost:.4f} of {self.max_cost:.4f}"
        return None


def per_item_usage(
    spent: TokenUsage, items: int, history: TokenUsage | None
) -> tuple[TokenUsage, str]:
    """The usage one more item is expected to take, and where that figure comes from."""
    if items > 0 and spent.requests > 0:
        return _divided(spent, items), "measured in this task"
    if history is not None:
        return history, "measured over past tasks"
    return DEFAULT_USAGE_PER_ITEM, "default"


def _divided(usage: TokenUsage, items: int) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=-(-usage.prompt_tokens // items),
        completion_tokens=-(-usage.completion_tokens // items),
        requests=max(1, -(-usage.requests // items)),
    )


class Estimate(Record):
    """What a task would cost before it is submitted: candidates × tokens per item."""

    candidates: int
    tokens_per_item: int
    tokens: int
    cost: float | None = None  # None when the model has no price configured
    source: str = "default"  # "measured over past tasks" or "default"
    model: str = ""

    @property
    def text(self) -> str:
        cost = "" if self.cost is None else f" · cost ≈ {self.cost:.4f}"
        return (
            f"estimate: {self.candidates:,} candidates × ~{self.tokens_per_item:,} tokens "
            f"= ~{self.tokens:,} tokens{cost} ({self.source})"
        )


def estimate(
    candidates: int,
    history: TokenUsage | None,
    price: Mapping[str, float] | None,
    model: str = "",
) -> Estimate:
    per_item, source = per_item_usage(TokenUsage(), 0, history)
    total = TokenUsage(
        prompt_tokens=per_item.prompt_tokens * candidates,
        completion_tokens=per_item.completion_tokens * candidates,
        requests=per_item.requests * candidates,
    )
    return Estimate(
        candidates=candidates,
        tokens_per_item=per_item.total_tokens,
        tokens=total.total_tokens,
        cost=cost_of(total, price),
        source=source,
        model=model,
    )
