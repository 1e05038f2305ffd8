"""Loopback fakes for tests and benchmarks: an OpenAI-compatible gateway with scripted faults."""

from __future__ import annotations

from tests.fakes.openai_server import FakeOpenAIProcess, FakeOpenAIServer, Fault, RecordedRequest

__all__ = ["FakeOpenAIProcess", "FakeOpenAIServer", "Fault", "RecordedRequest"]
