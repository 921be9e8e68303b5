"""/map's structure for assistive technology, without a browser: the page had no heading and
no landmarks (axe-core: `page-has-heading-one`, `landmark-one-main`, `region`), so a screen
reader could not jump to the controls or the map; and one status line served both the search
and the route form, each wiping out the other's message."""

from __future__ import annotations

from html.parser import HTMLParser


class Outline(HTMLParser):
    """The body's top-level elements, every element's ancestors, and some attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.top: list[str] = []
        self.found: list[tuple[str, dict, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.stack == ["html", "body"]:
            self.top.append(tag)
        self.found.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in ("meta", "link", "input", "br", "hr", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]

    def by_id(self, ident: str) -> tuple[str, dict, tuple[str, ...]]:
        return next(item for item in self.found if item[1].get("id") == ident)


def outline(client) -> Outline:
    r = client.get("/map")
    assert r.status_code == 200
    parsed = Outline()
    parsed.feed(r.text)
    return parsed


def test_the_page_has_a_heading_and_its_content_is_in_landmarks(client):
    page = outline(client)
    assert page.top == ["header", "main", "script"], page.top
    assert [tag for tag, *_ in page.found].count("h1") == 1
    for control in ("size", "available", "place", "batch", "key", "count", "route-status"):
        assert "header" in page.by_id(control)[2], control
    for part in ("map", "shown"):
        assert "main" in page.by_id(part)[2], part


def test_the_search_and_the_route_each_have_their_own_status_line(client):
    page = outline(client)
    for status in ("count", "route-status"):
        assert page.by_id(status)[1].get("aria-live") == "polite", status
