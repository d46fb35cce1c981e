"""PIN fields and the plain words for sign-in and PIN results (shared by the sign-in
screen, the guide view, set-up and the PIN offer after Sign in with Timeback)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit


def display_name(user: Any) -> str:
    """The name shown for a ``StudentInfo``, ``GuideInfo`` or ``SignedIn``."""
    return str(getattr(user, "display_name", None) or getattr(user, "name", None) or user.id)


def pin_field(name: str) -> QLineEdit:
    """A PIN entry: hidden digits, an accessible name."""
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(12)
    field.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    field.setAccessibleName(name)
    return field


def result_message(result: Any) -> str:
    """Plain words for a sign-in result that is not "ok"."""
    status = result.status
    if status == "wrong_pin":
        left = getattr(result, "remaining_attempts", None)
        return "That PIN is not right." + (f" {left} tries left." if left is not None else "")
    if status == "locked_out":
        wait = int(getattr(result, "retry_after_s", 0) or 0)
        return f"Too many wrong PINs. Try again in {max(wait, 1)} seconds."
    if status == "needs_pin":
        return "You have no PIN on this computer yet. Ask a guide to set one."
    if status == "disabled":
        return "This account is disabled. Ask a guide."
    return "This person is not in the class list on this computer."


def pin_change_message(result: Any) -> str:
    """Plain words for a refused PIN change (the statuses are about the guide's PIN)."""
    if result.status == "wrong_pin":
        return "The guide PIN is not right."
    if result.status == "locked_out":
        return "Too many wrong guide PINs. Wait a little and try again."
    return f"The PIN was not set. {result.message}".strip()
