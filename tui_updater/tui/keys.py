"""Every key of the dashboard, once: the bindings, the help screen and the palette use it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeySpec:
    key: str  # textual key name(s)
    action: str  # app action
    description: str  # short, for the footer
    help: str  # one line for the help screen and the palette
    show: bool = True


KEYS: tuple[KeySpec, ...] = (
    KeySpec("n", "new_task", "New", "Open the new-task form"),
    KeySpec(
        "a", "new_task('CHARACTER_AVATAR')", "Avatars", "New task: character avatars", show=False
    ),
    KeySpec(
        "s",
        "new_task('CHARACTER_SETTINGS')",
        "Settings",
        "New task: character settings",
        show=False,
    ),
    KeySpec("m", "new_task('MBTI_ASSIGNMENT')", "MBTI", "New task: MBTI assignment", show=False),
    KeySpec(
        "u", "new_task('DATABASE_UPGRADE')", "Upgrade", "New task: database upgrade", show=False
    ),
    KeySpec("enter", "focus_task", "Detail", "Show the selected task's detail"),
    KeySpec("x", "cancel_task", "Cancel", "Cancel the selected task"),
    KeySpec("r", "retry_task", "Retry", "Retry the selected task's failed items"),
    KeySpec("v", "revert_task", "Revert", "Revert everything the selected task wrote", show=False),
    KeySpec("d", "delete_task", "Delete", "Delete the selected task", show=False),
    KeySpec(
        "space",
        "mark_task",
        "Mark",
        "Mark the task: x r d then act on every marked one",
        show=False,
    ),
    KeySpec("plus", "shift_priority(1)", "Prio+", "Raise a pending task's priority", show=False),
    KeySpec("minus", "shift_priority(-1)", "Prio-", "Lower a pending task's priority", show=False),
    KeySpec("p", "toggle_pause", "Pause", "Pause or resume the queue"),
    KeySpec("slash", "filter", "Filter", "Filter the queue by id, type, status or priority"),
    KeySpec("o", "cycle_sort", "Sort", "Sort the queue by age, status or priority (running first)"),
    KeySpec(
        "l", "toggle_log_filter", "Log", "Show logs of the selected task only / of all", show=False
    ),
    KeySpec(
        "c", "characters", "Chars", "Characters: browse, search, mark; missing fields and MBTI"
    ),
    KeySpec("b", "backups", "Backups", "Database backups: list and restore"),
    KeySpec(
        "t",
        "schedules",
        "Schedules",
        "Schedules and watch rules: list, on/off, remove (ctrl+t in the form adds one)",
        show=False,
    ),
    KeySpec("question_mark", "help", "Help", "This help: every key"),
    KeySpec("q", "quit", "Quit", "Quit (running tasks resume on the next start)"),
)

EXTRA_HELP: tuple[tuple[str, str], ...] = (
    ("ctrl+p", "Command palette: every action by name"),
    ("esc", "Leave a form, screen or filter"),
    ("ctrl+s", "Submit the new-task form"),
    ("R (task detail)", "Review its proposals (accept, reject, edit)"),
    ("w (task detail)", "What the task changed: character, field, before → after; f e / filter"),
    ("A (task detail)", "Apply a completed dry run for real: the form prefilled, dry run off"),
    ("ctrl+t", "Schedule the new-task form's task: a cron or 'every N' trigger"),
    ("tab / shift+tab", "Next / previous field or pane"),
    ("↑ ↓ pgup pgdn", "Move in the queue"),
)


def display_key(key: str) -> str:
    return {"slash": "/", "question_mark": "?", "enter": "enter"}.get(key, key)
