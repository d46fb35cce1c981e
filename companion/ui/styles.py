"""The app's look: one calm style sheet and font helpers that scale with the system font.

No fixed pixel font sizes: the application font is the system font scaled by ``TEXT_SCALE``
and every font size in the style sheet is that size times a factor (in points), so text
follows the system font size setting. Spacing is in ``em`` where Qt allows it.

Colours are chosen for WCAG AA: body text on the page and on cards is above 7:1, the state
colours (open, mastered, locked) are above 4.5:1 on their badges, and the focus ring is
near-black (above 3:1 against the page and every card), drawn 3 px wide.

Widgets opt in to a look by object name (``student_button``, ``card``, ``xp_figure``...) or
by the ``role`` property (``primary`` buttons, ``notice`` labels), never by type alone, so
other windows keep a plain look.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

TEXT_SCALE = 1.2  # the app's text is this much larger than the system font
_BASE_PT_PROPERTY = "companion_system_pt"
_APPLIED_PT_PROPERTY = "companion_applied_pt"  # the size the style sheet was made for
_FOLLOWING_PROPERTY = "companion_follows_font"
_HEADING_PROPERTY = "companion_heading"  # a heading's size factor

# Palette (contrast on white in brackets).
INK = "#1f2933"  # body text (14.7:1)
MUTED = "#4a5563"  # secondary text (7.6:1)
PAGE = "#f4f6f9"
CARD = "#ffffff"
LINE = "#cfd8e3"  # card borders (decorative)
FIELD_LINE = "#7b8794"  # input borders (3.6:1, non-text contrast)
PRIMARY = "#1f5f99"  # white text on it: 6.6:1
PRIMARY_HOVER = "#184d7d"
PRIMARY_SOFT = "#e4eefb"
FOCUS = "#111827"  # focus ring (17:1 on white)
ERROR = "#a4262c"

# The lesson states: (text, badge background, border) — never colour alone: each state
# also has its own icon and word.
STATE_COLOURS = {
    "open": ("#1d4f86", "#e4eefb", "#8fb3df"),  # 7.3:1 on its badge
    "mastered": ("#1e6b34", "#e3f4e8", "#8cc9a0"),  # 5.9:1
    "locked": ("#4b5563", "#eceff3", "#b8c0cb"),  # 6.6:1
}


def style_sheet(base_pt: float) -> str:
    """The style sheet for an application font of ``base_pt`` points."""

    def pt(factor: float) -> str:
        return f"{base_pt * factor:.1f}pt"

    return f"""
QMainWindow {{ background: {PAGE}; }}
QWidget#banner {{ background: #fff4ce; color: #3d3000; border-bottom: 1px solid #e0c060; }}
QWidget#envbar {{ background: #e6edf5; }}
QWidget#envbar QLabel {{ color: {INK}; }}
QLabel#env_label {{ font-weight: bold; }}
QLabel {{ color: {INK}; }}
QLabel#error_label {{ color: {ERROR}; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#subtitle {{ color: {MUTED}; font-size: {pt(1.1)}; }}
QLabel#section_title {{ font-size: {pt(1.15)}; font-weight: bold; }}
QLabel[role="notice"], QLabel[role="info"] {{
    border: 1px solid transparent; border-radius: 10px; padding: 0.5em 0.8em;
}}
QLabel[role="notice"] {{ background: #fff7e0; color: #4d3800; border-color: #e8c766; }}
QLabel[role="info"] {{ background: {PRIMARY_SOFT}; color: #1d4f86; border-color: #8fb3df; }}
QLabel[role="notice"][empty="true"], QLabel[role="info"][empty="true"] {{
    background: transparent; border-color: transparent;
}}

QPushButton {{
    background: {CARD}; color: {INK}; border: 2px solid {FIELD_LINE}; border-radius: 10px;
    padding: 0.45em 1.2em; min-height: 1.4em;
}}
QPushButton:hover {{ background: {PRIMARY_SOFT}; }}
QPushButton:pressed {{ background: #cddff5; }}
QPushButton:focus {{ border: 3px solid {FOCUS}; }}
QPushButton:disabled {{ color: {MUTED}; background: #eceff3; border: 2px dashed #9aa5b1; }}
QPushButton[role="primary"] {{
    background: {PRIMARY}; color: #ffffff; border: 2px solid {PRIMARY};
    font-weight: bold; font-size: {pt(1.1)}; padding: 0.5em 1.5em;
}}
QPushButton[role="primary"]:hover {{ background: {PRIMARY_HOVER}; }}
QPushButton[role="primary"]:focus {{ border: 3px solid {FOCUS}; background: {PRIMARY_HOVER}; }}
QPushButton[role="primary"]:disabled {{
    color: {MUTED}; background: #eceff3; border: 2px dashed #9aa5b1; font-weight: normal;
}}
QLineEdit:disabled {{ color: {MUTED}; background: #eceff3; }}

QPushButton#student_button {{
    font-size: {pt(1.4)}; font-weight: bold; min-height: 2.4em; padding: 0.6em 0.6em;
    background: {CARD}; color: {INK}; border: 2px solid {LINE}; border-radius: 16px;
}}
QPushButton#student_button:hover {{ background: {PRIMARY_SOFT}; border-color: {PRIMARY}; }}
QPushButton#student_button:focus {{ border: 3px solid {FOCUS}; background: {PRIMARY_SOFT}; }}
QPushButton#student_button:disabled {{
    color: {MUTED}; background: #eceff3; border: 2px dashed #9aa5b1; font-weight: normal;
}}
QListWidget[accessibleName="Classes"] {{
    font-size: {pt(1.4)}; background: transparent; border: none; outline: none;
}}
QListWidget[accessibleName="Classes"]::item {{
    background: {CARD}; color: {INK}; border: 2px solid {LINE}; border-radius: 16px;
    padding: 0.7em 1em; margin: 0.2em 0;
}}
QListWidget[accessibleName="Classes"]::item:hover {{ background: {PRIMARY_SOFT}; }}
QListWidget[accessibleName="Classes"]::item:selected {{
    background: {PRIMARY_SOFT}; color: {INK}; border: 3px solid {FOCUS};
}}

QLineEdit, QComboBox {{
    background: {CARD}; color: {INK}; border: 2px solid {FIELD_LINE}; border-radius: 8px;
    padding: 0.3em 0.5em; min-height: 1.4em;
}}
QLineEdit:focus, QComboBox:focus {{ border: 3px solid {FOCUS}; }}
QLineEdit[accessibleName="Your PIN"] {{
    font-size: {pt(1.6)}; max-width: 10em; padding: 0.2em 0.5em;
}}
QComboBox QAbstractItemView {{
    background: {CARD}; color: {INK}; selection-background-color: {PRIMARY_SOFT};
    selection-color: {INK};
}}
QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}

QFrame#card {{ border: 1px solid {LINE}; border-radius: 14px; background: {CARD}; }}
QFrame#card QLabel {{ background: transparent; border: none; }}
QFrame#xp_card {{ border: 2px solid #8cc9a0; border-radius: 18px; background: #e3f4e8; }}
QFrame#xp_card[zero="true"] {{ border: 2px solid {LINE}; background: {CARD}; }}
QFrame#xp_card QLabel {{ background: transparent; border: none; }}
QLabel#xp_figure {{ font-size: {pt(4.0)}; font-weight: bold; color: #1e6b34; }}
QFrame#xp_card[zero="true"] QLabel#xp_figure {{ color: {INK}; }}
QLabel#xp_unit {{ font-size: {pt(1.4)}; font-weight: bold; }}
QLabel#today_big {{ font-size: {pt(1.5)}; font-weight: bold; }}
QLabel#fact_name {{ font-weight: bold; font-size: {pt(1.05)}; }}
QLabel#fact_value {{ font-weight: bold; font-size: {pt(1.2)}; }}
QLabel#fact_help {{ color: {MUTED}; }}
QFrame#card QLabel#verdict {{
    border: 1px solid #e5b27a; border-radius: 8px; padding: 0.1em 0.5em;
    font-weight: bold; font-size: {pt(1.1)}; color: #7a3b00; background: #fff1e0;
}}
QFrame#card QLabel#verdict[ok="true"] {{
    color: #1e6b34; background: #e3f4e8; border-color: #8cc9a0;
}}

QListWidget#sums {{
    background: {CARD}; color: {INK}; border: 1px solid {LINE}; border-radius: 10px;
    padding: 0.3em 0.5em;
}}
QListWidget#sums::item {{ padding: 0.15em 0; }}

QProgressBar#goal_bar {{
    border: 2px solid {FIELD_LINE}; border-radius: 12px; background: #e9eef4; color: {INK};
    text-align: center; font-weight: bold; font-size: {pt(1.1)}; min-height: 1.8em;
}}
QProgressBar#goal_bar::chunk {{ background: #7cc796; border-radius: 10px; }}

QTreeWidget#lesson_list {{
    background: transparent; border: 2px solid transparent; border-radius: 14px;
    outline: none;
}}
QTreeWidget#lesson_list:focus {{ border: 2px solid {LINE}; }}

QWidget#session_header {{ background: {CARD}; border-bottom: 1px solid {LINE}; }}
QLabel#lesson_title {{ font-size: {pt(1.3)}; font-weight: bold; }}
QLabel#focused_time {{ font-size: {pt(1.3)}; font-weight: bold; color: #1e6b34; }}
QLabel#state_label {{
    font-weight: bold; color: #1e6b34; background: #e3f3e6; border: 1px solid #8cc59a;
    border-radius: 8px; padding: 0.15em 0.6em;
}}
QLabel#state_label[kind="idle"] {{
    color: #7a4b00; background: #fff3d6; border: 2px dashed #d9a441;
}}
QLabel#state_label[kind="away"] {{
    color: #3d4756; background: #e6e9ee; border: 2px dotted #8a94a3;
}}
QLabel#state_label[kind="off-task"] {{
    color: #8a1c1c; background: #fde4e4; border: 2px solid #d77a7a;
}}
QLabel#state_label[kind="not seen"] {{
    color: #3d4756; background: #f1f3f6; border: 2px dotted #8a94a3;
}}
QScrollBar:vertical {{
    background: #eef1f5; width: 12px; margin: 2px; border: none; border-radius: 5px;
}}
QScrollBar:horizontal {{
    background: #eef1f5; height: 12px; margin: 2px; border: none; border-radius: 5px;
}}
QScrollBar::handle:vertical {{ background: #8a94a3; min-height: 32px; border-radius: 5px; }}
QScrollBar::handle:horizontal {{ background: #8a94a3; min-width: 32px; border-radius: 5px; }}
QScrollBar::handle:hover {{ background: #5d6878; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QLabel[role="guide"] {{
    color: #4a2a7a; background: #efe7fb; border-left: 6px solid #6b46a8; padding: 0.2em 0.5em;
}}
QLabel#pending_time {{ color: {MUTED}; font-style: italic; }}
QLabel#still_there {{
    background: #fff3d6; color: #5c3a00; border-bottom: 1px solid #d9a441;
    padding: 0.4em 1em; font-weight: bold;
}}

QTableWidget#report {{
    background: {CARD}; alternate-background-color: #f1f5f9; color: {INK};
    border: 1px solid {LINE}; border-radius: 10px; gridline-color: {LINE};
    selection-background-color: {PRIMARY_SOFT}; selection-color: {INK}; outline: 0;
}}
QTableWidget#report:focus {{ border: 3px solid {FOCUS}; }}
QTableWidget#report::item {{ padding: 0.4em 0.6em; border: none; }}
QHeaderView::section {{
    background: #e6edf5; color: {INK}; font-weight: bold; border: none;
    border-bottom: 2px solid {LINE}; padding: 0.45em 0.6em;
}}
QGroupBox {{
    background: {CARD}; border: 1px solid {LINE}; border-radius: 14px;
    margin-top: 1.6em; padding: 0.8em 0.6em 0.4em 0.6em; font-weight: bold;
}}
QGroupBox::title {{
    subcontrol-origin: margin; subcontrol-position: top left; left: 0.6em; padding: 0 0.2em;
    color: {INK};
}}
QGroupBox QLabel {{ font-weight: normal; }}
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
    """Show ``widget``'s text as a heading: larger and bold, relative to the app font.

    The factor is remembered on the widget, so the heading follows a later change of the
    application font (``follow_font``)."""
    widget.setProperty(_HEADING_PROPERTY, factor)
    widget.setFont(scaled_font(QApplication.font(), factor, bold=True))


def chain_tab_order(*widgets: QWidget) -> None:
    """Tab visits ``widgets`` in this order (the order they appear on the screen)."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)


def activate_on_enter(*buttons: QPushButton) -> None:
    """Let Enter (as well as Space) press ``buttons`` when they have the keyboard focus.

    Outside a dialog a focused push button ignores Enter unless it is an auto-default one.
    """
    for button in buttons:
        button.setAutoDefault(True)


def set_role(widget: QWidget, role: str) -> None:
    """Give ``widget`` a style role (``primary`` button, ``notice`` label)."""
    widget.setProperty("role", role)


def repolish(widget: QWidget) -> None:
    """Apply the style sheet again after a property that it selects on changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.updateGeometry()


def apply_style(app: QApplication) -> None:
    """Make the app's text ``TEXT_SCALE`` times the system font and install the style sheet.

    The system size is remembered on the application, so calling this again (a second
    window, a test) does not grow the text again. Later changes of the application font
    render the style sheet and the headings again at the new size (``follow_font``).
    """
    system_pt = app.property(_BASE_PT_PROPERTY)
    if not system_pt:
        system_pt = app.font().pointSizeF()
        if system_pt <= 0:
            system_pt = 9.0
        app.setProperty(_BASE_PT_PROPERTY, system_pt)
    font = app.font()
    base_pt = float(system_pt) * TEXT_SCALE
    font.setPointSizeF(base_pt)
    app.setProperty(_APPLIED_PT_PROPERTY, base_pt)
    app.setFont(font)
    app.setStyleSheet(style_sheet(base_pt))
    if not app.property(_FOLLOWING_PROPERTY):
        app.setProperty(_FOLLOWING_PROPERTY, True)
        app.fontChanged.connect(follow_font)


def follow_font(font: QFont) -> None:
    """The application font changed (a larger text setting, an accessibility tool, a
    test): render the style sheet and the headings again at the new size."""
    app = QApplication.instance()
    pt = font.pointSizeF()
    if not isinstance(app, QApplication) or pt <= 0:
        return
    if app.property(_APPLIED_PT_PROPERTY) == pt:
        return
    app.setProperty(_APPLIED_PT_PROPERTY, pt)
    app.setStyleSheet(style_sheet(pt))
    for widget in QApplication.allWidgets():
        factor = widget.property(_HEADING_PROPERTY)
        if factor:
            widget.setFont(scaled_font(font, float(factor), bold=True))


# --- state icons (drawn, so they need no emoji font) ----------------------------------


def draw_state_icon(painter: QPainter, rect: QRectF, state: str) -> None:
    """A round badge with the state's symbol: ▶ open, ✓ mastered, a padlock for locked."""
    fg, bg, border = (QColor(c) for c in STATE_COLOURS.get(state, STATE_COLOURS["open"]))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(border, 2))
    painter.setBrush(bg)
    painter.drawEllipse(rect)
    s = rect.width()
    cx, cy = rect.center().x(), rect.center().y()
    if state == "mastered":
        pen = QPen(fg, s * 0.1, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        path = QPainterPath(QPointF(cx - s * 0.2, cy))
        path.lineTo(QPointF(cx - s * 0.05, cy + s * 0.15))
        path.lineTo(QPointF(cx + s * 0.22, cy - s * 0.15))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    elif state == "locked":
        painter.setPen(QPen(fg, s * 0.07))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawArc(QRectF(cx - s * 0.13, cy - s * 0.27, s * 0.26, s * 0.3), 0, 180 * 16)
        painter.drawLine(QPointF(cx - s * 0.13, cy - s * 0.12), QPointF(cx - s * 0.13, cy))
        painter.drawLine(QPointF(cx + s * 0.13, cy - s * 0.12), QPointF(cx + s * 0.13, cy))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fg)
        painter.drawRoundedRect(QRectF(cx - s * 0.2, cy - s * 0.03, s * 0.4, s * 0.28), 2, 2)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fg)
        path = QPainterPath(QPointF(cx - s * 0.1, cy - s * 0.2))
        path.lineTo(QPointF(cx + s * 0.2, cy))
        path.lineTo(QPointF(cx - s * 0.1, cy + s * 0.2))
        path.closeSubpath()
        painter.drawPath(path)
    painter.restore()
