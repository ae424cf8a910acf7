"""Identity verification in a real browser (Debian chromium, fake camera: the bona fide webcam
feed of the person of ``pad_apfol``): a bad number is refused on the page before any camera
use; a valid number, the selfie challenge, and a chip portrait rendered from the same person's
photo, uploaded as a file, verify; a stranger's rendered portrait does not."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import pytest

from e2e.browser.conftest import SCREENSHOTS, LiveServer, collecting_console, launch_page
from e2e.browser.pages_support import OVERFLOW_JS, PHONE_SIZE, Shop, text_of, wait_until
from facepay_support import build_face_app, sign_up
from support import require

pytestmark = pytest.mark.e2e
REAL = "video/bona_fide/apfol_webcam_real.webm"
# A step longer than one loop of the feed (11.7 s) plus slack for a loaded machine: wherever in
# the loop a challenge starts, the feed's smile comes round within the step.
STEP_MS = 20_000


def chip_file(photo: Path, out: Path) -> Path:
    from smilepay.adapters.models.pipeline_factory import default_detector
    from smilepay.evaluation.document_render import chip_image
    from smilepay.evaluation.embeddings import main_face
    from smilepay.vision.decode import read_image

    image = read_image(str(photo))
    face = main_face(image, default_detector())
    assert face is not None
    cv2.imwrite(str(out), chip_image(image, face.landmarks5, 3), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return out


def verify(page: Any, url: str, token: str, number: str, document: Path,
           tries: int = 3) -> str:
    for _ in range(tries):
        page.goto("about:blank")  # a new load: only the fragment would differ
        page.goto(f"{url}/identity/kyc#token={token}")
        page.wait_for_selector("#consent-text:not(:empty)")
        page.fill("#number", number)
        page.check("#consent-box")
        page.click("#start")
        page.wait_for_selector("#kyc[data-state=document_photo], #kyc[data-state=failed]",
                               timeout=90_000)
        if page.get_attribute("#kyc", "data-state") == "failed":
            continue  # the loaded machine missed the feed's smile: a person would try again
        page.set_input_files("#document", str(document))
        page.click("#send")
        page.wait_for_selector("#result:not([hidden])", timeout=90_000)  # face work, loaded
        return str(page.get_attribute("#result", "data-status"))
    raise AssertionError(page.inner_text("#message"))


def test_kyc_page_verifies_the_owner_and_refuses_a_stranger(
        tmp_path: Path, feed: Callable[..., Path], playwright_driver: Any,
        data_dir: Path) -> None:
    require((data_dir / REAL).exists(), f"bona fide video {data_dir / REAL}")
    from smilepay.domain.documents.cn_resident_id import check_character
    from smilepay.services.face_frames import warm_up

    world = build_face_app(tmp_path, challenge="smile", real_clock=True,
                           step_timeout_ms=STEP_MS)
    warm_up(world.face)
    owner = chip_file(sorted((data_dir / "pad_apfol" / "live").glob("*.png"))[0],
                      tmp_path / "owner.jpg")
    stranger_photo = sorted(sorted((data_dir / "celeba_wild").iterdir())[0].iterdir())[0]
    stranger = chip_file(stranger_photo, tmp_path / "stranger.jpg")
    first = sign_up(world, phone="+4915100000021")
    second = sign_up(world, phone="+4915100000022")
    camera = feed(REAL, "apfol_real_15fps")
    with LiveServer(world.client.app) as server:
        browser, page = launch_page(playwright_driver, camera, server.url)
        try:
            with collecting_console(page) as console:
                page.goto(f"{server.url}/identity/kyc#token={first}")
                page.wait_for_selector("#consent-text:not(:empty)")
                page.fill("#number", "110105194912310020")  # wrong check character
                page.check("#consent-box")
                page.click("#start")
                deadline = time.monotonic() + 30
                while "check character" not in page.inner_text("#message"):
                    assert time.monotonic() < deadline, (page.inner_text("#message"), console)
                    page.wait_for_timeout(200)
                assert page.get_attribute("#kyc", "data-state") == "document"
                assert page.is_hidden("#video")  # no camera for a bad number
                status = verify(page, server.url, first, "11010519491231002X", owner)
                assert status == "verified", console
                page.screenshot(path=str(SCREENSHOTS / "kyc_verified.png"), full_page=True)
                number = "44030419900101001" + check_character("44030419900101001")
                assert verify(page, server.url, second, number, stranger) == "refused"
                assert page.inner_text("#message") == "The portrait did not match the selfie."
        finally:
            browser.close()
    world.close()


@pytest.mark.parametrize("token", [None, "ws_no_such_session_0123456789"],
                         ids=["no-session", "ended-session"])
def test_signed_out_the_kyc_page_shows_only_the_sign_in(
        pages_shop: Shop, browse: Callable[..., Any], token: str | None) -> None:
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/identity/kyc" + (f"#token={token}" if token else ""))
    page.wait_for_selector("#kyc-page[data-state=signed_out]")
    assert page.is_visible("#signin")
    assert page.get_attribute("#signin a", "href") == "/enrol"
    assert [f.get_attribute("id") for f in page.query_selector_all("form") if f.is_visible()] == []
    assert [i.get_attribute("id") for i in page.query_selector_all("input, select, video")
            if i.is_visible()] == []
    assert page.is_hidden("#consent-text")
    assert text_of(page, "#message") == ("Your session has ended. Please sign in again." if token
                                         else "You are not signed in.")
    assert page.evaluate("localStorage.getItem('smilepay.wallet')") is None
    assert page.evaluate(OVERFLOW_JS) <= 0


def test_the_kyc_page_says_in_words_what_is_wrong_with_a_typed_document(
        pages_shop: Shop, browse: Callable[..., Any]) -> None:
    """Only the chosen document's fields show, each labelled; a wrong length is caught on the
    page, a number or MRZ the server refuses reads in plain words (no "expected", no "MRZ")."""
    token = sign_up(pages_shop.world, phone="+4915100000031")
    page = browse(pages_shop.url, PHONE_SIZE)
    page.goto(f"{pages_shop.url}/identity/kyc#token={token}")
    page.wait_for_selector("#kyc-page[data-state=ready]")
    assert page.is_visible("#number") and page.is_hidden("#mrz1") and page.is_hidden("#mrz2")
    page.check("#consent-box")

    def refused(number: str = "", line1: str = "", line2: str = "") -> str:
        page.evaluate("() => { const m = document.getElementById('message');"
                      " m.className = 'message'; m.textContent = ''; }")
        if number:
            page.fill("#number", number)
        else:
            page.fill("#mrz1", line1)
            page.fill("#mrz2", line2)
        page.click("#start")
        wait_until(lambda: page.is_visible("#message.error"), "the refusal", page=page)
        assert page.get_attribute("#kyc", "data-state") == "document"
        assert page.is_hidden("#video")  # no camera for a bad document
        shown = text_of(page, "#message")
        assert "expected" not in shown and "MRZ" not in shown and "MOD" not in shown, shown
        return shown

    assert refused("12345") == ("A resident identity card number has 18 characters; "
                                "you typed 5.")
    assert refused("110105194912310020").startswith("This card number is not right")
    page.select_option("#doc-type", "passport")
    assert page.is_hidden("#number") and page.is_visible("#mrz1") and page.is_visible("#mrz2")
    for field in ("mrz1", "mrz2"):
        assert page.locator(f"label[for={field}]").count() == 1, field
    assert refused(line1="P<UTOERIKSSON<<ANNA<MARIA", line2="x").startswith("Line 1 has 25")
    assert refused(line1="P<UTOERIKSSON<<ANNA<MARIA".ljust(44, "<"),
                   line2="L898902C36UTO7408122F1204159ZE184226B<<<<<11").startswith(
        "These passport lines are not right")
    assert page.evaluate(OVERFLOW_JS) <= 0
