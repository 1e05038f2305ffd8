"""tavern-updater-tui: a terminal dashboard and durable task engine for AI character databases."""

__version__ = "0.1.0"
