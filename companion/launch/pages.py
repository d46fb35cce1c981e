"""The small HTML pages the listener shows in the browser."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.5}}
code{{background:#eee;padding:0 .3em}}</style></head>
<body><h1>{title}</h1><p>{message}</p>{extra}</body></html>
"""


def page(title: str, message: str, extra: str = "") -> str:
    """A page with a heading and a paragraph (both escaped); ``extra`` is trusted HTML."""
    return _PAGE.format(title=escape(title), message=escape(message), extra=extra)


def launched_page(lesson_title: str | None) -> str:
    """The page after a successful launch."""
    what = f"The lesson {lesson_title}" if lesson_title else "Your lesson library"
    return page("Opened in Timeback Companion",
                f"{what} opened in the Timeback Companion app. You can close this tab.")


def signed_in_page() -> str:
    """The page after a successful Sign in with Timeback."""
    return page("Signed in", "You are signed in to Timeback Companion. You can close this tab.")


def refused_page(title: str, code: str, message: str) -> str:
    """A refusal: what happened, and its code for the guide or support."""
    return page(title, message, f"<p>Reason code: <code id=\"reason\">{escape(code)}</code></p>")
