"""The guide's report: a read-only table of who studied, with totals in words."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from PySide6.QtWidgets import QAbstractItemView

from companion.ui.guide import GuideWidget, totals_text

ROWS = [
    {"name": "Ava", "runs": 2, "focused_minutes": 12.5, "xp": Decimal("12.0"), "accuracy": 0.9},
    {"name": "Noah", "runs": 1, "focused_minutes": 3.0, "xp": Decimal("0.0"), "accuracy": None},
]


def services(rows: list[dict[str, Any]]) -> Any:
    signin = SimpleNamespace(classes=lambda: [], students=lambda _class_id: [])
    return SimpleNamespace(signin=signin, guide_report=lambda: rows)


def test_report_rows_are_read_only_with_totals(qtbot: Any) -> None:
    view = GuideWidget(services(ROWS))
    qtbot.addWidget(view)
    view.show_guide(SimpleNamespace(name="Maria", user_id="g1"))
    assert view.report.rowCount() == 2
    cells = [view.report.item(0, c).text() for c in range(5)]
    assert cells == ["Ava", "2", "12.5", "12.0", "90%"]
    assert view.report.item(1, 4).text() == "–"
    assert view.report.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert view.totals_label.text() == totals_text(ROWS)
    assert totals_text(ROWS).startswith("2 students studied today · 15.5 focused minutes")
    assert view.sync_button.accessibleName() == "Sync now"


def test_empty_report_says_so() -> None:
    assert "Nobody" in totals_text([])
