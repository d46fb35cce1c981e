"""Lesson sources: the app's own lesson bundles (folders or zips) and the demo course.

Public API: ``load_bundle`` reads one bundle into a ``LessonBundle``; ``load_library`` reads
every course folder into a ``Library`` (a catalogue plus the bundles, with bad bundles
listed as ``BundleError``s instead of stopping the others). Standard library and
``companion.core`` only; no Qt. A lesson in another application carries an
``ExternalLessonSpec`` and its check quiz (``QuizQuestion``s) instead of an entry page.
"""

from companion.content.bundle import LessonBundle, load_bundle
from companion.content.errors import BundleError
from companion.content.external import ExternalLessonSpec, QuizQuestion
from companion.content.library import Library, load_library
from companion.content.paths import bridge_script_path, demo_lessons_path, relay_script_path
from companion.content.zipsafe import Limits

__all__ = [
    "BundleError",
    "ExternalLessonSpec",
    "LessonBundle",
    "Library",
    "Limits",
    "QuizQuestion",
    "bridge_script_path",
    "demo_lessons_path",
    "load_bundle",
    "load_library",
    "relay_script_path",
]
