"""Fixtures for the review bug tests: a real tasks.db and the engine's sample task type."""

from __future__ import annotations

from tests.engine.conftest import clock, make_engine, recorder, store  # noqa: F401
