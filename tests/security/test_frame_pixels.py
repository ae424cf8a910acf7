"""Issue 11, point 6: small files, big pixels. A 115 KB 6300x6300 PNG passed the 40 MP cap and
cost ~600 MB and 2 s to decode. Frames are capped to what a terminal sends (1920x1080), refused
from the header before a pixel is decoded, and at most ``DECODE_SLOTS`` decode at once."""

from __future__ import annotations

import io
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from edge_support import Edge, assert_error, build_edge
from smilepay.vision import decode
from smilepay.vision.errors import ImageTooLarge


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(out, "PNG", optimize=True)
    return out.getvalue()


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 120, 150)).save(out, "JPEG", quality=50)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png(6300, 6300)
    assert len(data) < 200_000  # small file ...
    return data  # ... 39.7 million pixels


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    tmp = tmp_path_factory.mktemp("pixels")
    built = build_edge(f"sqlite:///{tmp / 'money.db'}", tmp, "sqlite")
    yield built
    built.container.close()


def test_a_big_picture_in_a_small_file_is_refused_from_its_header(bomb: bytes) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge):
        decode.decode_frame(bomb)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 0.2, seconds
    assert peak < 8_000_000, peak  # the pixels would be 119 MB as RGB, far more while decoding
    with pytest.raises(ImageTooLarge):
        decode.check_frame_header(jpeg(4000, 3000))  # a 12 MP photo is no camera frame


def test_a_full_hd_frame_still_decodes() -> None:
    assert decode.check_frame_header(jpeg(1920, 1080)) == (1920, 1080)
    assert decode.decode_frame(jpeg(1080, 1920)).shape == (1920, 1080, 3)
    assert decode.decode_image(jpeg(4000, 3000)).shape == (3000, 4000, 3)  # photos: own cap


def test_the_api_refuses_them_with_a_400_before_any_work(edge: Edge, bomb: bytes) -> None:
    headers = {**edge.terminal(), "Content-Type": "image/jpeg"}
    start = time.perf_counter()
    answer = edge.client.post("/v1/face/camera-check", content=bomb, headers=headers)
    assert time.perf_counter() - start < 1.0
    error = assert_error(answer, 400, "image_too_large")
    assert "1920" in error["message"] or str(decode.FRAME_MAX_PIXELS) in error["message"]
    intent = edge.client.post("/v1/payment_intents", json={
        "amount_minor": 150, "currency": "EUR", "terminal": edge.keys.terminal_id},
        headers=edge.merchant())
    session = edge.client.post("/v1/face/payments", json={"payment_intent": intent.json()["id"]},
                               headers=edge.terminal()).json()
    frame = edge.client.post(f"/v1/face/sessions/{session['id']}/frames", content=bomb,
                             headers=headers)
    assert_error(frame, 400, "image_too_large")


def test_no_more_than_the_slots_decode_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    running = {"now": 0, "most": 0}
    lock = threading.Lock()
    real = decode._decode_pixels

    def counted(data: bytes, picture: Any) -> np.ndarray:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.05)
        try:
            return real(data, picture)
        finally:
            with lock:
                running["now"] -= 1

    monkeypatch.setattr(decode, "_decode_pixels", counted)
    frame = jpeg(640, 480)
    threads = [threading.Thread(target=decode.decode_frame, args=(frame,)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert running["most"] == decode.DECODE_SLOTS, running
