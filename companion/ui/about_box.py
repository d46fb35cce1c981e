"""The About box: the app's version and build (``companion.system.about``), from the tray menu."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from companion.system.about import build, version

TITLE = "About Timeback Companion"


def about_text() -> str:
    """What the box says."""
    return (
        f"Timeback Companion {version()}\nBuild {build()}\n\n"
        "Focused learning time, XP and mastery for classroom computers."
    )


def show_about(parent: QWidget | None = None) -> QMessageBox:
    """Open the About box (it does not block) and return it."""
    box = QMessageBox(
        QMessageBox.Icon.Information, TITLE, about_text(), QMessageBox.StandardButton.Ok, parent
    )
    box.setObjectName("about-box")
    box.open()
    return box
