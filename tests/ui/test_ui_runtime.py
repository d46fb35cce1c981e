"""The composition root's runtime: one token auth and one client per Timeback service for
the whole process, however many roster refreshes and sign-ins there are."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Harness
from tests.ui.test_ui_lesson import sign_in


def test_one_auth_and_one_client_per_service_for_the_process(qtbot: Any,
                                                             harness: Harness) -> None:
    rt = harness.shell.runtime
    clients = rt.timeback
    assert clients is not None and rt.refresher is not None and rt.worker is not None
    with qtbot.waitSignal(harness.shell.progress.synced, timeout=20_000):
        sign_in(harness, "Ava")  # the progress merge reads the gradebook
    rt.refresher.refresh_now()  # a roster refresh more
    rt.refresher.refresh_now(full=True)
    assert rt.refresher.client_factory() is clients.oneroster  # the same client each time
    assert clients.auth.token_requests == 1  # one token cache: one token for all of it
    harness.window.sign_out("button")
    with qtbot.waitSignal(harness.shell.progress.synced, timeout=20_000):
        sign_in(harness, "Mateo")
    assert rt.timeback is clients and clients.auth.token_requests == 1
