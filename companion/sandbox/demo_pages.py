"""Static reading pages for the demo course's lessons that run in the system browser.

``GET /demo/external/{name}`` serves one short page (no script, no outside resources), so
that the demo lesson ``5-browser-reading`` has something to open wherever the sandbox's port
lands. The page title is what the lesson's ``titlePattern`` looks for in the browser's
window title. The texts are written for this project.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.6;font-size:1.15rem;color:#1f2933;background:#fdfcf8}"
    "h1{font-size:1.8rem;line-height:1.2}p.note{font-size:1rem;color:#52606d}"
)


@dataclass(frozen=True)
class ReadingPage:
    """One page: its title (also the browser window's title) and its paragraphs."""

    title: str
    paragraphs: tuple[str, ...]
    note: str = ("When you have finished reading, go back to Timeback Companion and press "
                 "\u201cI'm done\u201d to answer three short questions.")


PAGES: dict[str, ReadingPage] = {
    "rain-gardens": ReadingPage(
        title="Rain Gardens",
        paragraphs=(
            "When rain falls on a roof, a road or a car park, it cannot soak into the ground. "
            "It runs off in a hurry, picking up dust, oil and litter on the way, and pours "
            "into drains and streams. After a big storm, streams can flood.",
            "A rain garden is a shallow dip in the ground, planted with tough plants, where "
            "that water can collect instead. The water sits in the garden for a day or two and "
            "slowly sinks into the soil. The plants' roots and the soil trap much of the dirt, "
            "so the water that reaches the stream later is cleaner.",
            "The best plants for a rain garden can live with wet feet after a storm and with "
            "dry soil in a sunny week. Many gardeners choose plants that grow wild nearby, "
            "because they are used to the local weather. Bees and butterflies visit the "
            "flowers, so a rain garden helps wildlife too.",
            "A class can build a small rain garden next to a downpipe from the school roof. "
            "The most important step comes first: test how fast water drains from a hole in "
            "the ground, so the garden empties before mosquitoes can breed in it.",
        ),
    ),
}


def page_html(page: ReadingPage) -> str:
    """The page as a small, self-contained HTML document."""
    body = "".join(f"<p>{escape(text)}</p>" for text in page.paragraphs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(page.title)}</h1>{body}"
        f'<p class="note">{escape(page.note)}</p></main></body></html>'
    )


def routes() -> list[Route]:
    """The demo reading pages."""

    async def reading(request: Request) -> Response:
        page = PAGES.get(request.path_params["name"])
        if page is None:
            return HTMLResponse("<!DOCTYPE html><title>Not found</title><p>No such page.</p>",
                                status_code=404)
        return HTMLResponse(page_html(page), headers={"Cache-Control": "no-store"})

    return [Route("/demo/external/{name}", reading, methods=["GET"])]
