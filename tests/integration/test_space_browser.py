"""The Space's page in a browser: served on 127.0.0.1 (fixture `served` in tests/conftest.py) and driven in
headless Chromium through Playwright. Marked slow as well: it needs a browser (docs/hub.md says how to get one).
"""

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO

SCREENSHOT = REPO / "docs" / "images" / "space.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def browser_page(url: str, profile: Path, width: int = 1280, height: int = 900):
    """A page of headless Chromium (Debian's, through Playwright) at `width` x `height` px, opened on `url`; skips
    the test without them."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        # a persistent context because Playwright takes --user-data-dir only this way
        browser = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = browser.new_page()
            page.goto(url)
            yield page
        finally:
            browser.close()


def fill_with_the_example_and_predict(page) -> None:
    from playwright.sync_api import expect

    page.get_by_text(">test_strong_0001").first.click()  # the example fills the text box
    expect(page.get_by_label("Sequences")).to_have_value(re.compile("test_non_0002"))
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("6 record(s)").wait_for(timeout=60_000)
    page.get_by_text("test_non_0002", exact=True).wait_for()  # a cell of the table's last row


@pytest.mark.slow
def test_the_page_in_a_browser_shows_the_table(served, tmp_path):
    """Clicks the example, Predict, Explain and Score the variant in headless Chromium; the screenshot is
    docs/images/space.png (or the file SPACE_SCREENSHOT names: .ci/run keeps docs/ as it is)."""
    screenshot = Path(os.environ.get("SPACE_SCREENSHOT", SCREENSHOT))
    with browser_page(served[1], tmp_path / "profile") as page:
        fill_with_the_example_and_predict(page)
        page.get_by_role("button", name="Explain").click()
        page.locator("img[src*='attention']").wait_for(timeout=60_000)
        page.locator("img[src*='attribution']").wait_for(timeout=60_000)  # the logo, under the attention plot
        page.get_by_label("Position (1-based)").fill("57")
        page.get_by_label("Alternative base").fill("A")
        page.get_by_role("button", name="Score the variant").click()
        page.get_by_text("57 T → A").wait_for(timeout=60_000)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


WITH_ERRORS = ">has_X\nACGTXACGTTGCAGGATTACAACGTTGCAGG\n>too_short\nAC\n"

# For each header cell of the table: its text, where its lines start (a character index), whether the text is cut,
# and its box, with the table's box and the width of the page the browser shows.
HEADER_LAYOUT = """table => [...table.querySelectorAll("thead th")].map(th => {
    const span = th.querySelector(".header");
    const text = [...span.childNodes].find(node => node.nodeType === Node.TEXT_NODE);
    const lines = [];
    let top = null;
    for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        const here = range.getBoundingClientRect().top;
        if (top === null || here > top + 1) lines.push(i);
        top = here;
    }
    return {
        text: text.textContent, lines, cut: span.scrollWidth > span.clientWidth, box: th.getBoundingClientRect().toJSON(),
        table: table.getBoundingClientRect().toJSON(), page: document.documentElement.clientWidth,
    };
})"""


@pytest.mark.slow
def test_every_column_header_is_whole_and_in_view_at_1280_px(served, tmp_path):
    """Issue 35: at 1,280 px the headers wrapped mid-word and `strength` and `error` were cut off. Before and after a
    prediction (with error rows), every header lies within the page and the table, on lines that break only at a
    space (no header has one: one line each), and is not cut."""
    app = served[0]
    expected = app.table_headers()
    with browser_page(served[1], tmp_path / "profile") as page:
        table = page.locator("#predictions")
        table.locator("thead th").first.wait_for()
        for moment in ("empty", "predicted"):
            if moment == "predicted":  # the example and records with an error: every column has cells
                page.get_by_label("Sequences").fill((REPO / "examples" / "sample.fasta").read_text() + WITH_ERRORS)
                page.get_by_role("button", name="Predict").click()
                page.get_by_text("8 record(s)").wait_for(timeout=60_000)
                page.get_by_text("invalid character 'X' at position 5", exact=True).wait_for()
            headers = table.evaluate(HEADER_LAYOUT)
            assert [header["text"] for header in headers] == expected, moment
            for header in headers:
                box, outer = header["box"], header["table"]
                where = f"{moment}: {header['text']} at {box} in a table at {outer}, page {header['page']} px"
                assert 0 <= box["x"] and box["x"] + box["width"] <= min(header["page"], 1280), where
                assert outer["x"] <= box["x"] and box["x"] + box["width"] <= outer["x"] + outer["width"] + 0.5, where
                breaks = [i for i in header["lines"][1:] if header["text"][i - 1] != " "]
                assert not breaks and not header["cut"], f"{where}: lines start at {header['lines']}"
