"""Bad files give the named errors: not an image, truncated, empty, enormous, no face, ambiguous."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

from smilepay.adapters.models.pipeline_factory import load_pipeline
from smilepay.config import get_settings
from smilepay.errors import SmilePayError
from smilepay.modelstore import load_lock
from smilepay.vision.decode import decode_image
from smilepay.vision.errors import (
    AmbiguousFaces,
    ImageEmpty,
    ImageTooLarge,
    ImageTruncated,
    NoFaceFound,
    NotAnImage,
)
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def face_pipeline():
    for name in ("yunet", "face_landmarker", "fr_feature", "mobilefacenet"):
        require((get_settings().model_dir / load_lock()[name].filename).is_file(),
                f"model {name} (run `make models`)")
    pipeline = load_pipeline()
    yield pipeline
    pipeline.close()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A real decompression bomb: a grey PNG whose all-zero rows compress about 1000 to 1."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body)
            + png_chunk(b"IEND", b""))


def test_the_errors_share_the_one_root():
    for error in (NotAnImage, ImageTruncated, ImageEmpty, ImageTooLarge, NoFaceFound,
                  AmbiguousFaces):
        assert issubclass(error, SmilePayError)


def test_text_is_not_an_image(data_dir: Path):
    with pytest.raises(NotAnImage, match="expected a JPEG"):
        decode_image((data_dir / "README.md").read_bytes())


def test_zero_bytes_are_empty():
    with pytest.raises(ImageEmpty):
        decode_image(b"")


def test_a_jpeg_cut_in_half_is_truncated(data_dir: Path):
    whole = (data_dir / "celeba_wild" / "id07201" / "001085.jpg").read_bytes()
    assert decode_image(whole).shape == (500, 389, 3)
    with pytest.raises(ImageTruncated):
        decode_image(whole[: len(whole) // 2])


def test_a_decompression_bomb_is_refused_before_its_pixels_expand():
    bomb = bomb_png(9_000, 6_000)  # 54 MP of grey (162 MB as BGR) in well under 1 MB
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge) as caught:
        decode_image(bomb, max_pixels=40_000_000)
    assert time.perf_counter() - start < 0.5
    assert (caught.value.details["width"], caught.value.details["height"]) == (9_000, 6_000)


def test_a_header_claiming_huge_dimensions_is_refused_without_pixel_data():
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    liar = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")
    with pytest.raises(ImageTooLarge):
        decode_image(liar)


def test_an_image_within_the_cap_decodes_to_bgr():
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 255  # red
    buffer = io.BytesIO()
    PilImage.fromarray(rgb).save(buffer, format="PNG")
    bgr = decode_image(buffer.getvalue())
    assert bgr.shape == (10, 20, 3) and bgr[0, 0].tolist() == [0, 0, 255]


def test_camera_jpegs_decode_as_the_general_path_does_and_exif_still_turns_photos_upright():
    rng = np.random.default_rng(0)
    rgb = (rng.integers(0, 256, (48, 64, 3)) // 16 * 16).astype(np.uint8)
    plain = io.BytesIO()
    PilImage.fromarray(rgb).save(plain, format="JPEG", quality=90)
    expected = np.asarray(PilImage.open(io.BytesIO(plain.getvalue())).convert("RGB"))[:, :, ::-1]
    assert np.array_equal(decode_image(plain.getvalue()), expected)  # OpenCV's fast path
    exif = PilImage.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    rotated = io.BytesIO()
    PilImage.fromarray(rgb).save(rotated, format="JPEG", quality=90, exif=exif.tobytes())
    assert decode_image(rotated.getvalue()).shape == (64, 48, 3)  # upright, as before


def test_a_picture_without_a_face_gives_no_face_found(data_dir: Path, face_pipeline):
    image = decode_image((data_dir / "hardcases_inspireface" / "crop" / "no_face.png").read_bytes())
    with pytest.raises(NoFaceFound):
        face_pipeline.analyze_frame(image)


def test_a_row_of_similar_faces_is_ambiguous(data_dir: Path, face_pipeline):
    image = decode_image((data_dir / "groups_compreface" / "000_5.jpg").read_bytes())
    with pytest.raises(AmbiguousFaces) as caught:
        face_pipeline.analyze_frame(image)
    assert caught.value.details["faces"] >= 2
