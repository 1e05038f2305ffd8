"""What every test shares: the ``tui_updater`` logger as each test found it.

Commands run in-process (``cli.main``) configure logging for a real process — their own
handlers, ``propagate`` off — which would hide later tests' log records from ``caplog``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_tool_logger() -> Iterator[None]:
    logger = logging.getLogger("tui_updater")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield
    logger.handlers[:] = handlers
    logger.propagate, logger.level = propagate, level
