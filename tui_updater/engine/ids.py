"""Task ids: ``task_`` + a unique, time-ordered suffix (epoch ms + counter + random)."""

from __future__ import annotations

import itertools
import os
import time

_counter = itertools.count()
_node = os.urandom(2).hex()


def new_task_id() -> str:
    """``task_<epoch-ms>_<sequence><node>``: sorts by creation time, unique across processes."""
    return f"task_{int(time.time() * 1000)}_{next(_counter) % 1_000_000:06d}{_node}"
