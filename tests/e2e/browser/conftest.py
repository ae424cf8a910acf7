"""Browser test set-up: a live server, headless Debian Chromium with a fake camera, screenshots.

- ``feed``: make (and cache, outside the repo) a ``.y4m`` camera feed from the shared data.
- ``serve``: run an ASGI app with uvicorn on a free local port in a thread.
- ``open_browser``: Playwright driving ``/usr/bin/chromium`` with the given feed as its camera
  and the camera permission granted for the server's origin.
- ``shoot``: save a screenshot under ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from e2e.browser.feeds import ffmpeg_available, make_y4m
from support import require

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def browser_tools() -> None:
    require(CHROMIUM.exists(), "Debian chromium at /usr/bin/chromium (make system)")
    require(ffmpeg_available(), "ffmpeg (make system)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "playwright for Python (pip install playwright)")


@pytest.fixture(scope="session")
def feed(browser_tools: None, data_dir: Path) -> Callable[..., Path]:
    def make(relative: str, name: str, **kwargs: Any) -> Path:
        source = data_dir / relative
        require(source.exists(), f"camera source {source}")
        return make_y4m(source, name, **kwargs)

    return make


@pytest.fixture()
def serve() -> Iterator[Callable[[Any], LiveServer]]:
    started: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        server = LiveServer(app).__enter__()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def playwright_driver(browser_tools: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch_page(driver: Any, camera_feed: Path, origin: str) -> tuple[Any, Any]:
    """(browser, page): Debian chromium whose camera plays ``camera_feed``, camera granted."""
    browser = driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={camera_feed}"],
    )
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=origin)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return browser, page


@pytest.fixture()
def open_browser(playwright_driver: Any) -> Iterator[Callable[[Path, str], Any]]:
    """``open_browser(feed_y4m, origin)`` -> a Playwright page whose camera plays the feed."""
    browsers: list[Any] = []

    def launch(camera_feed: Path, origin: str) -> Any:
        browser, page = launch_page(playwright_driver, camera_feed, origin)
        browsers.append(browser)
        return page

    yield launch
    for browser in browsers:
        browser.close()


@contextmanager
def collecting_console(page: Any) -> Iterator[list[str]]:
    lines: list[str] = []
    page.on("console", lambda msg: lines.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: lines.append(f"pageerror: {err}"))
    yield lines


@pytest.fixture()
def shoot() -> Callable[[Any, str], Path]:
    def save(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(scope="module")
def pages_shop(tmp_path_factory: pytest.TempPathFactory, browser_tools: None) -> Iterator[Any]:
    """A demo merchant on scratch SQLite served live, a smile challenge of 3 s per step."""
    from e2e.browser.pages_support import Shop
    from facepay_support import build_face_app

    world = build_face_app(tmp_path_factory.mktemp("pages_shop"), challenge="smile",
                           real_clock=True, step_timeout_ms=3000)
    with LiveServer(world.client.app) as server:
        yield Shop(world, server)
    world.close()


@pytest.fixture()
def browse(playwright_driver: Any) -> Iterator[Callable[..., Any]]:
    """``browse(origin, size=(w, h), camera=feed)`` -> a page of its own browser."""
    from e2e.browser.pages_support import DESKTOP, open_page

    browsers: list[Any] = []

    def launch(origin: str, size: tuple[int, int] = DESKTOP, camera: Path | None = None) -> Any:
        browser, page = open_page(playwright_driver, origin, size, camera)
        browsers.append(browser)
        return page

    yield launch
    for browser in browsers:
        browser.close()
