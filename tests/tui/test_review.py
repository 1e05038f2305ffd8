"""The review screen on the real demo runtime: a review-mode settings task from the form, its
proposals beside the current values; accept one, edit one, a site edit's CONFLICT, reject."""

from __future__ import annotations

from textual.widgets import Input, Static, Switch, TextArea

from tests.proposals.conftest import site_edit, site_rows, site_value
from tests.tui.conftest import SIZE, text_of, wait_for
from tui_updater.core.models import TaskStatus
from tui_updater.core.proposals import ProposalStatus
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.screens.detail import DetailScreen
from tui_updater.tui.screens.form import TaskForm
from tui_updater.tui.screens.review import ProposalEditor, ReviewScreen
from tui_updater.tui.widgets.queue_table import QueueTable


def _review(app: TavernApp) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


def _states(app: TavernApp) -> list[ProposalStatus]:
    return [p.status for p in _review(app).proposals]


async def test_review_task_through_the_dashboard(runtime: Runtime) -> None:
    db = runtime.settings.db_path
    page = await runtime.service.list_characters(CharacterQuery(limit=4))
    ids = [row.character_id for row in page.rows]
    before = site_rows(db)
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TaskForm) and bool(app.screen.specs), what="form"
        )
        form = app.screen
        form.query_one("#field-characterIds", Input).value = ",".join(ids)
        form.query_one("#field-overwrite", Switch).value = True
        form.query_one("#field-review", Switch).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: bool(app.task_records), what="task row")
        (task_id,) = app.task_records
        await wait_for(
            pilot,
            lambda: (
                app.task_records[task_id].status is TaskStatus.COMPLETED
                and app.task_records[task_id].review_pending == 4
            ),
            timeout_s=30,
            what="task done with proposals",
        )
        assert site_rows(db) == before  # generated and stored, nothing written
        queue = app.query_one(QueueTable)
        assert "4 wait" in str(queue.get_row(task_id))

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen), what="detail")
        await wait_for(
            pilot,
            lambda: "4 proposal(s) wait" in text_of(app.screen.query_one("#summary-progress")),
            what="detail says proposals wait",
        )
        await pilot.press("R")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.proposals) == 4,
            what="review screen",
        )
        review = _review(app)
        first, second, third, fourth = review.proposals
        assert "4 of 4 proposals wait" in text_of(review.query_one("#review-title", Static))
        diff = text_of(review.query_one("#review-diff-text", Static))
        assert "scenario" in diff and first.proposed("scenario").split()[0] in diff

        await pilot.press("a")  # accept the first: exactly it is written
        await wait_for(pilot, lambda: _states(app)[0] is ProposalStatus.ACCEPTED, what="accepted")
        assert site_value(db, first.character_id, "scenario") == first.proposed("scenario")
        changed = [r for r in site_rows(db)["Character"] if r not in before["Character"]]
        assert [str(r[0]) for r in changed] == [first.character_id]

        assert _review(app).table.cursor_row == 1  # settled one: on to the next
        await pilot.press("e")  # edit the second
        await wait_for(pilot, lambda: isinstance(app.screen, ProposalEditor), what="editor")
        app.screen.query_one("#edit-scenario", TextArea).load_text("A scenario of my own.")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and app.screen.proposals[1].edited,
            what="edited",
        )
        assert site_value(db, second.character_id, "scenario") == second.expected("scenario")
        await pilot.press("a")
        await wait_for(pilot, lambda: _states(app)[1] is ProposalStatus.ACCEPTED, what="accepted")
        assert site_value(db, second.character_id, "scenario") == "A scenario of my own."

        site_edit(db, third.character_id, "scenario", "Edited on the site.")
        await pilot.press("space", "space")  # mark the third and the fourth
        assert list(_review(app).marked) == [third.proposal_id, fourth.proposal_id]
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ReviewScreen)
                and _states(app)[2:] == [ProposalStatus.CONFLICT, ProposalStatus.ACCEPTED]
            ),
            what="marked settled",
        )
        status = text_of(_review(app).query_one("#review-status", Static))
        assert "CONFLICT" in status and (third.label or third.character_id) in status
        assert site_value(db, third.character_id, "scenario") == "Edited on the site."
        assert site_value(db, fourth.character_id, "scenario") == fourth.proposed("scenario")
        assert "0 of 4 proposals wait" in text_of(_review(app).query_one("#review-title", Static))


async def test_reject_all_discards_and_writes_nothing(runtime: Runtime) -> None:
    db = runtime.settings.db_path
    page = await runtime.service.list_characters(CharacterQuery(limit=2))
    page_ids = [row.character_id for row in page.rows]
    submitted = await runtime.service.submit(
        "MBTI_ASSIGNMENT", {"review": True, "forceUpdate": True, "characterIds": page_ids}
    )
    done = await runtime.engine.wait(submitted.task_id)
    before = site_rows(db)
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReviewScreen(runtime.service, done))
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.proposals) == 2,
            what="review screen",
        )
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ReviewScreen)
                and _states(app) == [ProposalStatus.REJECTED] * 2
            ),
            what="rejected",
        )
        await pilot.press("a")  # nothing waits any more: nothing is written
        await pilot.pause(0.2)
    assert site_rows(db) == before
    assert (await runtime.service.get_task(done.task_id)).review_pending == 0


async def test_avatar_proposal_shows_the_current_avatar_beside_the_new(runtime: Runtime) -> None:
    page = await runtime.service.list_characters(
        CharacterQuery(filters=("missingAvatar",), limit=1)
    )
    submitted = await runtime.service.submit(
        "CHARACTER_AVATAR", {"review": True, "characterIds": [page.rows[0].character_id]}
    )
    done = await runtime.engine.wait(submitted.task_id)
    app = TavernApp(runtime.service)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ReviewScreen(runtime.service, done))
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, ReviewScreen) and len(app.screen.proposals) == 1,
            what="review screen",
        )
        review = _review(app)
        await wait_for(
            pilot, lambda: "▀" in text_of(review.query_one("#review-avatar-new")), what="image"
        )
        assert "no avatar now" in text_of(review.query_one("#review-avatar-old"))
        await pilot.press("a")
        await wait_for(pilot, lambda: _states(app) == [ProposalStatus.ACCEPTED], what="accepted")
        await wait_for(
            pilot, lambda: "▀" in text_of(review.query_one("#review-avatar-new")), what="written"
        )
