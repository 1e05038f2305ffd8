"""The new-task form, generated from the chosen type's parameter schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static, Switch, TextArea

from tui_updater.core.capabilities import TaskCapabilities
from tui_updater.core.models import Priority, TaskRecord
from tui_updater.core.service import TaskTypeInfo, UpdaterService
from tui_updater.errors import InvalidParameters, TavernError
from tui_updater.tui.fields import (
    FieldError,
    FieldSpec,
    build_widget,
    field_specs,
    read_value,
    write_value,
)
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.schedules import TriggerPrompt
from tui_updater.tui.widgets.header import over_gateway_cap

PREVIEW_DELAY_S = 0.3
SELECTION_FIELD = "characterIds"  # empty: the type's own candidates (every character it finds)
DRY_RUN_FIELD = "dryRun"
BUDGET_FIELD = "maxTokens"  # a type that can carry a budget gets a cost estimate


def switch_state(on: bool) -> str:
    return "[b]✓ on[/b]" if on else "✗ off"


class TaskForm(ModalScreen[TaskRecord | None]):
    """Pick a type and priority, fill its parameters, submit with ctrl+s."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("ctrl+t", "schedule", "Schedule this", priority=True),
        Binding("escape", "leave", "Cancel", priority=True),
    ]

    def __init__(
        self,
        service: UpdaterService,
        types: list[TaskTypeInfo],
        *,
        preselect: str | None = None,
        character_ids: list[str] | None = None,
        values: Mapping[str, Any] | None = None,
        priority: str = "NORMAL",
    ) -> None:
        super().__init__()
        self.service = service
        self.types = {t.name: t for t in types}
        first = preselect if preselect in self.types else next(iter(self.types), "")
        self.type_name: str = first or ""
        self.specs: list[FieldSpec] = []
        self._preview_timer: Timer | None = None
        self.preview_count: int | None = None
        self._touched: set[str] = set()  # fields the operator changed: only these show errors early
        self.character_ids = character_ids  # preselected (the characters screen's marks)
        # Parameters to start from (a dry run to apply for real), for the preselected type only
        self.values = dict(values or {})
        self.initial_type = self.type_name
        self.initial_priority = priority if priority in Priority.__members__ else "NORMAL"

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static("[b]New task[/b]", id="form-title")
            with Horizontal(id="form-head"):
                yield Select(
                    [(t.title, t.name) for t in self.types.values()],
                    value=self.type_name,
                    allow_blank=False,
                    id="task-type",
                )
                yield Select(
                    [(p.name, p.name) for p in Priority],
                    value=self.initial_priority,
                    allow_blank=False,
                    id="priority",
                )
            yield Static("", id="type-description")
            yield VerticalScroll(id="fields", can_focus=False)
            yield Static("", id="preview")
            yield Static("", id="form-status")
            yield Static(
                "[b]ctrl+s[/b] submit   [b]esc[/b] cancel   [b]tab[/b] next field", id="form-hint"
            )

    async def on_mount(self) -> None:
        await self._build_fields()

    async def _build_fields(self) -> None:
        info = self.types.get(self.type_name)
        container = self.query_one("#fields", VerticalScroll)
        await container.remove_children()
        self.specs = []
        specs = field_specs(info.params_schema) if info else []
        self.query_one("#type-description", Static).update(info.description if info else "")
        widgets: list[Widget] = []
        for spec in specs:
            marker = " [red]*[/red]" if spec.required else ""
            widgets.append(
                Label(f"[b]{spec.title}[/b]{marker}  [dim]{spec.name}[/dim]", classes="field-label")
            )
            if spec.description:
                widgets.append(Static(spec.description, classes="field-help"))
            widget = build_widget(spec)
            if isinstance(widget, Switch):
                state = Static(switch_state(widget.value), id=f"state-{spec.name}")
                state.add_class("switch-state")
                widgets.append(Horizontal(widget, state, classes="switch-row"))
            else:
                widgets.append(widget)
            error = Static("", id=spec.error_id, classes="field-error")
            error.display = False
            widgets.append(error)
        await container.mount_all(widgets)
        if self.character_ids and any(s.name == SELECTION_FIELD for s in specs):
            chosen = container.query_one(f"#field-{SELECTION_FIELD}", Input)
            chosen.value = ", ".join(self.character_ids)
        if self.values and self.type_name == self.initial_type:
            for spec in specs:
                if spec.name in self.values:
                    write_value(
                        spec, container.query_one(f"#{spec.widget_id}"), self.values[spec.name]
                    )
        self.specs = specs  # only once their widgets exist: readers may query them at once
        self._touched.clear()
        self._set_status("")
        self._schedule_preview()

    # --- values ---------------------------------------------------------------------------------

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The parameters as typed, and the fields that cannot be read (name -> reason)."""
        data: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.specs:
            widget = self.query_one(f"#{spec.widget_id}")
            try:
                present, value = read_value(spec, widget)
            except FieldError as exc:
                errors[spec.name] = str(exc)
                continue
            if present:
                data[spec.name] = value
        return data, errors

    @property
    def priority(self) -> str:
        value = self.query_one("#priority", Select).value
        return str(value) if value is not Select.BLANK else "NORMAL"

    def _show_errors(self, errors: dict[str, str]) -> None:
        for spec in self.specs:
            reason = errors.get(spec.name, "")
            label = self.query_one(f"#{spec.error_id}", Static)
            label.update(f"[red]✗ {reason}[/red]" if reason else "")
            label.display = bool(reason)

    def _set_status(self, text: str) -> None:
        self.query_one("#form-status", Static).update(text)

    def _errors_from(self, exc: TavernError) -> dict[str, str]:
        if isinstance(exc, InvalidParameters):
            errors: dict[str, str] = {}
            for detail in exc.details:
                head = str(detail.get("field", "")).split(".")[0]
                if any(s.name == head for s in self.specs):
                    errors.setdefault(head, str(detail.get("message", "invalid")))
            return errors
        return {}

    # --- preview --------------------------------------------------------------------------------

    def _schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_S, self._run_preview)

    def _run_preview(self) -> None:
        self._preview_timer = None
        self.preview()

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def preview(self) -> None:
        """Ask the engine how many items the task would touch; show field errors if any."""
        data, errors = self.collect()
        early = {name: reason for name, reason in errors.items() if name in self._touched}
        self._show_errors(early)
        label = self.query_one("#preview", Static)
        if errors:
            what = "fix the marked fields" if early else "fill the required fields (*)"
            label.update(f"[yellow]{what} to see what the task would touch[/yellow]")
            return
        try:
            count = await self.service.preview(self.type_name, data)
        except TavernError as exc:
            self.preview_count = None
            self._show_errors(self._errors_from(exc))
            label.update(f"[red]{exc}[/red]")
            return
        noun = self.noun
        text = f"[b]would touch {count} {noun}{'s' if count != 1 else ''}[/b]"
        capped = over_gateway_cap(data, getattr(getattr(self.app, "queue", None), "gateway", None))
        if any(s.name == BUDGET_FIELD for s in self.specs):
            try:
                text += f"\n{escape((await self.service.estimate(self.type_name, data)).text)}"
            except TavernError as exc:
                text += f"\n[yellow]no estimate: {escape(str(exc))}[/yellow]"
        self.preview_count = count  # with the whole preview shown at once
        label.update(text + (f"\n[yellow]{escape(capped)}[/yellow]" if capped else ""))

    # --- events ---------------------------------------------------------------------------------

    @on(Select.Changed, "#task-type")
    async def _type_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and event.value != self.type_name:
            self.type_name = str(event.value)
            await self._build_fields()

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(SelectionList.SelectedChanged)
    @on(TextArea.Changed)
    def _field_changed(
        self,
        event: Input.Changed
        | Switch.Changed
        | SelectionList.SelectedChanged[str]
        | TextArea.Changed,
    ) -> None:
        control = event.control
        if isinstance(event, Switch.Changed) and (control.id or "").startswith("field-"):
            name = (control.id or "")[len("field-") :]
            self.query_one(f"#state-{name}", Static).update(switch_state(event.value))
        if control is not None and control.has_focus and (control.id or "").startswith("field-"):
            self._touched.add((control.id or "")[len("field-") :])
        self._schedule_preview()

    # --- actions --------------------------------------------------------------------------------

    def action_leave(self) -> None:
        # esc in an open dropdown closes the dropdown only: the form and what is typed stay
        for select in self.query(Select):
            if select.expanded:
                select.expanded = False
                select.focus()
                return
        self.dismiss(None)

    @property
    def noun(self) -> str:
        return "character" if any(s.name == SELECTION_FIELD for s in self.specs) else "item"

    def warnings(self, data: dict[str, Any], count: int | None) -> list[str]:
        """What the operator must confirm before this task starts (nothing: no question)."""
        found: list[str] = []
        names = {s.name for s in self.specs}
        if SELECTION_FIELD in names and not data.get(SELECTION_FIELD):
            how_many = "every" if count is None else f"all {count:,}"
            found.append(f"No ids given: the task targets [b]{how_many} {self.noun}s[/b] it finds.")
        info = self.types.get(self.type_name)
        capabilities = TaskCapabilities.of(info.params_schema if info else {})
        if capabilities.destructive and not data.get(DRY_RUN_FIELD):
            backup = " A backup is taken first." if capabilities.makes_backups else ""
            found.append(
                f"This is a [b]live[/b] run: it changes the database itself, not a copy.{backup}"
            )
        return found

    def action_submit(self) -> None:
        self.submit()

    def action_schedule(self) -> None:
        """Schedule these parameters instead of running them once: ask for the trigger."""
        data, errors = self.collect()
        self._touched.update(errors)
        self._show_errors(errors)
        if errors:
            name, reason = next(iter(errors.items()))
            self._set_status(f"[red]Not scheduled: {name}: {reason}[/red]")
            return
        body = {"type": self.type_name, "data": data, "priority": self.priority}

        def added(schedule: object) -> None:
            if schedule is not None:
                self.app.notify(f"schedule added: {getattr(schedule, 'trigger_text', '')}")
                self.dismiss(None)

        self.app.push_screen(TriggerPrompt(self.service, body), added)

    @work(exclusive=True, group="submit", exit_on_error=False)
    async def submit(self) -> None:
        data, errors = self.collect()
        self._touched.update(errors)  # from now on these fields show their errors live
        self._show_errors(errors)
        if errors:
            name, reason = next(iter(errors.items()))
            self._set_status(f"[red]Not submitted: {name}: {reason}[/red]")
            return
        count = self.preview_count
        if self.specs and SELECTION_FIELD not in data:
            try:
                count = await self.service.preview(self.type_name, data)
            except TavernError:
                count = None  # submit below reports the refusal with its reason
        warnings = self.warnings(data, count)
        if warnings:
            question = "\n".join(warnings) + "\n\nContinue?"
            if not await self.app.push_screen_wait(ConfirmScreen(question, confirm_label="Start")):
                self._set_status("[yellow]Not submitted: not confirmed[/yellow]")
                return
        try:
            task = await self.service.submit(self.type_name, data, self.priority)
        except TavernError as exc:
            self._show_errors(self._errors_from(exc))
            self._set_status(f"[red]Not submitted: {exc}[/red]")
            return
        self.dismiss(task)
