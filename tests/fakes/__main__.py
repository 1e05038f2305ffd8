"""``python -m tests.fakes [--latency-s S]``: run the fake gateway until stdin closes."""

from __future__ import annotations

from tests.fakes.openai_server import main

main()
