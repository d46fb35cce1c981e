"""The report's files: CSV, and a printable page (HTML laid out by QTextDocument, written
by QPdfWriter).

Works offscreen (the command line uses it with no window). Charts, when given, are
embedded as images in the page.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMarginsF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from companion.core.report import Report
from companion.core.report_rows import STUDENT_COLUMNS, others_text, student_cells

STYLE = """
body { font-family: sans-serif; font-size: 9pt; color: #1c2530; }
h1 { font-size: 15pt; margin-bottom: 2pt; }
h2 { font-size: 11pt; margin-top: 12pt; }
th { background: #e8edf3; text-align: left; padding: 3px; }
td { padding: 3px; border-bottom: 1px solid #d8dee6; }
td.n { text-align: right; }
.note { color: #5a6675; }
"""


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"n" if i >= numeric_from else ""}">{html.escape(v)}</td>'
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f'<table cellspacing="0" width="100%"><tr>{head}</tr>{body}</table>'


def report_html(report: Report, title: str, charts: Sequence[str] = ()) -> str:
    """The page: heading, period, the students' table, most-missed questions, charts.

    ``charts`` are resource names added to the document with ``add_image``.
    """
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(report.period.label())} · days in '
        f"{html.escape(report.time_zone)} · daily goal {report.goal_minutes:g} focused minutes"
        "</p>",
        _table(STUDENT_COLUMNS, [student_cells(s) for s in report.students],
               numeric_from=1),
    ]
    if others_text(report):
        parts.insert(2, f'<p class="note">{html.escape(others_text(report))}</p>')
    off = [s for s in report.students if not s.can_sign_in]
    if off:
        parts.append("<h2>Students who cannot sign in</h2><ul>")
        for s in off:
            parts.append(f"<li>{html.escape(s.name)}: {html.escape(s.disabled_why or '')}. "
                         f"{html.escape(s.where_to_change or '')}</li>")
        parts.append("</ul>")
    if report.missed:
        parts.append("<h2>Questions most students missed</h2>")
        rows = [[m.lesson_title, m.item, f"{m.missed_by} of {m.answered_by}"]
                for m in report.missed]
        parts.append(_table(("lesson", "question", "missed by"), rows, numeric_from=2))
    for name in charts:
        parts.append(f'<p><img src="{html.escape(name)}" width="640"></p>')
    return f"<html><head><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"


def write_pdf(
    report: Report, path: Path, title: str, charts: Sequence[tuple[str, QImage]] = ()
) -> None:
    """Write the printable page to ``path`` (A4 landscape). Needs a QGuiApplication."""
    document = QTextDocument()
    for name, image in charts:
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(report_html(report, title, [name for name, _ in charts]))
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("Timeback Companion")
    writer.setPageLayout(QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Landscape,
        QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter,
    ))
    document.print_(writer)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """UTF-8 with a byte-order mark, so spreadsheets open it with the right letters."""
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
