"""The table of results from the students' other computers (migration step 6).

What the gradebook said about a student's results that this computer did not write, as
last read (at sign-in, or when a guide opened the report). Times are UTC ISO text; XP is
Decimal text.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RemoteResultRow(SQLModel, table=True):
    """One AssessmentResult another computer wrote for a student and one of our lessons."""

    __tablename__ = "remote_results"

    sourced_id: str = Field(primary_key=True)  # the result's sourcedId in the gradebook
    student_id: str = Field(index=True)
    lesson_id: str
    run_id: str | None = None  # the other computer's run, when the metadata says
    attempt: int = 0
    score: float | None = None  # accuracy in percent
    questions: int | None = None
    correct: int | None = None
    xp: str | None = None  # Decimal text; None when the result carries no XP
    mastered: bool = False
    completed: bool = False
    is_attempt: bool = True
    score_date: str | None = Field(default=None, index=True)  # UTC ISO text
    source: str | None = None  # the computer the metadata names
    fetched_at: str = ""  # UTC ISO text
