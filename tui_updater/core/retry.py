"""Retry policy: exponential backoff with full jitter, honouring a server-requested delay."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before retrying a transient item failure."""

    max_attempts: int = 5  # attempts per item, the first included
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 300.0  # a Retry-After longer than this is capped

    def delay_s(
        self,
        failed_attempts: int,
        retry_after_s: float | None = None,
        *,
        rng: random.Random | None = None,
    ) -> float:
        """Delay before the next attempt after ``failed_attempts`` failures (1-based).

        Full jitter: uniform in [0, min(max, base·2^(n-1))]. A Retry-After from the server wins.
        """
        if retry_after_s is not None and retry_after_s >= 0:
            return min(retry_after_s, self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, failed_attempts - 1)))
        return (rng or random).uniform(0, ceiling)

    def should_retry(self, failed_attempts: int) -> bool:
        return failed_attempts < self.max_attempts
