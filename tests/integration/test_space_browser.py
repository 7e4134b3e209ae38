"""The Space's page in a browser: served on 127.0.0.1 (fixture `served` in tests/conftest.py) and driven in
headless Chromium through Playwright. Marked slow as well: it needs a browser (docs/hub.md says how to get one).
"""

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


@pytest.mark.slow
def test_the_page_in_a_browser_shows_the_table(served, tmp_path):
    """Clicks the example, Predict and Explain in headless Chromium; the screenshot is docs/images/space.png
    (or the file SPACE_SCREENSHOT names: .ci/run keeps docs/ as it is)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    screenshot = Path(os.environ.get("SPACE_SCREENSHOT", SCREENSHOT))
    with playwright.sync_playwright() as driver:
        # a persistent context because Playwright takes --user-data-dir only this way
        browser = driver.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        page = browser.new_page()
        page.goto(served[1])
        page.get_by_text(">test_strong_0001").first.click()  # the example fills the text box
        playwright.expect(page.get_by_label("Sequences")).to_have_value(re.compile("test_non_0002"))
        page.get_by_role("button", name="Predict").click()
        page.get_by_text("6 record(s)").wait_for(timeout=60_000)
        page.get_by_text("test_non_0002", exact=True).wait_for()  # a cell of the table's last row
        page.get_by_role("button", name="Explain").click()
        page.locator("img[src*='attention']").wait_for(timeout=60_000)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
