"""Helpers for the page tests: a shop on scratch SQLite served live, browser pages of a given
size, a camera that sees no one, and in-page checks (words broken across lines, overflow)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from e2e.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, LiveServer
from e2e.browser.feeds import cache_dir
from facepay_support import FaceApp

DESKTOP = (1280, 800)
PHONE_SIZE = (390, 844)

# Every visible word (split at spaces and hyphens) must sit on one line: a word whose
# characters land on two lines was broken mid-word ("Amou nt"). Ids (.id) may wrap.
BROKEN_WORDS_JS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const parent = node.parentElement;
    if (!parent || parent.closest(".id, script, style, svg, [hidden]")) continue;
    if (!parent.getClientRects().length) continue;
    const re = /[^\\s\\-\\u2013\\u2014]+/g;
    let m;
    while ((m = re.exec(node.data))) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0)
        .map((r) => Math.round(r.bottom)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
# Boxes that scroll sideways inside the page (a table wider than its card), by their heading.
SCROLLING_TABLES_JS = """() => Array.from(document.querySelectorAll('.table-wrap, section.card'))
  .filter((e) => e.getClientRects().length && e.scrollWidth > e.clientWidth + 1)
  .map((e) => ((e.closest('section') || e).querySelector('h2') || e).textContent)"""


@dataclass
class Shop:
    world: FaceApp
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=30,
                            headers={"Authorization": f"Bearer {self.world.keys.secret_key}"})

    def create_payment(self, amount_minor: int, currency: str = "eur",
                       **extra: Any) -> dict[str, Any]:
        with self.api() as client:
            r = client.post("/v1/payment_intents", json={
                "amount_minor": amount_minor, "currency": currency,
                "terminal": self.world.keys.terminal_id, "description": "Tea", **extra})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def payment(self, payment_id: str) -> dict[str, Any]:
        with self.api() as client:
            r = client.get(f"/v1/payment_intents/{payment_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def no_one_feed() -> Path:
    """A grey camera picture with no face in it (the kiosk shows the payment, finds no one)."""
    out = cache_dir() / "grey_no_face_10fps.y4m"
    if not out.exists():
        tmp = out.with_suffix(".part")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "color=c=gray:s=640x480:r=10", "-t", "2", "-pix_fmt", "yuv420p",
                        "-f", "yuv4mpegpipe", str(tmp)], check=True, timeout=120)
        tmp.replace(out)
    return out


def open_page(driver: Any, origin: str, size: tuple[int, int] = DESKTOP,
              camera: Path | None = None) -> tuple[Any, Any]:
    """(browser, page) of Debian chromium at ``size``; the camera plays ``camera``."""
    args = list(CHROMIUM_FLAGS)
    if camera is not None:
        args.append(f"--use-file-for-fake-video-capture={camera}")
    browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  locale="en-US")
    context.grant_permissions(["camera"], origin=origin)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return browser, page


def wait_until(check: Any, what: str, timeout_s: float = 20.0, page: Any = None) -> Any:
    """Poll ``check()`` until truthy (the pages' CSP forbids Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


def text_of(page: Any, selector: str) -> str:
    """Visible text with non-breaking spaces as spaces (Intl puts one in "KWD 1.250")."""
    return str(page.inner_text(selector)).replace("\u00a0", " ").replace("\u202f", " ")
