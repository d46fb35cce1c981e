"""The app's look: one style sheet and font helpers that scale with the system font.

No fixed pixel font sizes: headings are the application font scaled by a factor, so text
follows the system font size setting.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

STYLE_SHEET = """
QWidget#banner { background: #fff4ce; border-bottom: 1px solid #e0c060; }
QWidget#envbar { background: #e8eef7; }
QLabel#env_label { font-weight: bold; }
QPushButton { padding: 0.35em 1em; }
QPushButton#student_button { padding: 0.8em 0.6em; text-align: center; }
QLabel#error_label { color: #a4262c; }
QLabel#state_label { font-weight: bold; }
QFrame#card { border: 1px solid #c8c8c8; border-radius: 6px; background: #ffffff; }
"""


def scaled_font(base: QFont, factor: float, bold: bool = False) -> QFont:
    """``base`` scaled by ``factor`` (relative to the system font, never in pixels)."""
    font = QFont(base)
    size = base.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


def make_heading(widget: QWidget, factor: float = 1.5) -> None:
    """Show ``widget``'s text as a heading: larger and bold, relative to the app font."""
    widget.setFont(scaled_font(QApplication.font(), factor, bold=True))


def apply_style(app: QApplication) -> None:
    """Install the style sheet on the application."""
    app.setStyleSheet(STYLE_SHEET)
