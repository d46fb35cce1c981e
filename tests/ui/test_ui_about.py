"""The About box from the tray menu: the version and the build."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from companion.system.about import build, version
from companion.ui.tray import Tray


def test_the_tray_menu_opens_the_about_box_with_version_and_build(qtbot: Any) -> None:
    tray = Tray()
    qtbot.addWidget(tray.menu)
    assert "About Timeback Companion" in [a.text() for a in tray.menu.actions()]
    tray.about_action.trigger()
    box = tray.about_box
    assert isinstance(box, QMessageBox)
    qtbot.addWidget(box)
    qtbot.waitUntil(box.isVisible)
    assert box.windowTitle() == "About Timeback Companion"
    assert f"Timeback Companion {version()}\nBuild {build()}\n" in box.text()
    assert build() == "dev"  # a checkout, not a frozen build
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not box.isVisible())
