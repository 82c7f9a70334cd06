"""One headless Chromium for the session (Debian's ``chromium``, driven by Playwright for
Python; nothing downloads a browser), and pages that fail their test on any console
error or any request leaving file:// and loopback.

Without /usr/bin/chromium (or Playwright) the browser tests skip and say why; under CI
(``CI`` set), where ``.ci/run`` installs both, they fail instead.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "target" / "screenshots"


def _missing(what: str) -> None:
    message = f"{what}: the browser tests need Debian's chromium and Playwright (.ci/run installs both)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """A Chromium context with a new, empty profile, shared by every browser test."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1400, "height": 900}, device_scale_factor=1)
        try:
            yield context
        finally:
            context.close()


def stays_on_the_machine(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.scheme in ("http", "https", "ws") and parts.hostname in LOOPBACK)


@dataclass
class Watched:
    """A page, and what it did: console errors, uncaught exceptions, every request."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str, full_page: bool = False, clip: dict | None = None) -> Path:
        """Save what the page shows (the whole page with ``full_page``, a part of it with ``clip``)
        to target/screenshots/<name>.png, for people to look at."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page, clip=clip)
        return path


@pytest.fixture
def visit(browser):
    """``visit(url)``: a new page at ``url``, ready (the app marks the document); after the test,
    no console error, no uncaught exception, and no request that left file:// and loopback."""
    opened: list[Watched] = []

    def open_page(url: str) -> Watched:
        page = browser.new_page()
        page.set_default_timeout(15_000)
        watched = Watched(page)

        def guard(route):
            if stays_on_the_machine(route.request.url):
                route.continue_()
            else:  # never sent: recorded, and the test fails below
                route.abort()

        page.route("**/*", guard)
        page.on("request", lambda request: watched.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and watched.errors.append(message.text))
        page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
        opened.append(watched)
        page.goto(url)
        page.wait_for_selector("html[data-ready]")
        return watched

    yield open_page
    for watched in opened:
        watched.page.close()
    for watched in opened:
        assert watched.errors == []
        assert [url for url in watched.requests if not stays_on_the_machine(url)] == []

