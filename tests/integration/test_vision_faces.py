"""Detection and face choice on real photos: group counts, nose points, the paying face."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from smilepay.config import get_settings
from smilepay.modelstore import load_lock
from smilepay.vision.choose import choose_paying_face
from smilepay.vision.decode import read_image
from smilepay.vision.detect import detect_faces, scale_face
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def detector():
    require((get_settings().model_dir / load_lock()["yunet"].filename).is_file(),
            "model yunet (run `make models`)")
    from smilepay.adapters.models.yunet import YuNetDetector

    return YuNetDetector()


def group_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "groups_compreface" / "faces.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_group_photos_give_the_right_face_count_within_tolerance(data_dir: Path, detector):
    errors = {}
    for row in group_rows(data_dir):
        image = read_image(str(data_dir / "groups_compreface" / row["image"]))
        found = len(detect_faces(image, detector, max_side_px=1280))
        errors[row["image"]] = found - int(row["face_count"])
    assert all(abs(e) <= 1 for e in errors.values()), errors
    assert sum(abs(e) for e in errors.values()) <= 2, errors


def test_every_labelled_nose_lies_inside_a_detected_face(data_dir: Path, detector):
    for row in group_rows(data_dir):
        if not row["nose_points_xy"]:
            continue
        image = read_image(str(data_dir / "groups_compreface" / row["image"]))
        faces = detect_faces(image, detector, max_side_px=1280)
        for point in row["nose_points_xy"].split():
            x, y = (float(v) for v in point.split(":"))
            nearest = min(math.dist((x, y), tuple(f.landmarks5[2])) for f in faces)
            width = max(f.width for f in faces)
            assert nearest < 0.35 * width, (row["image"], point, nearest)


def test_the_empty_scene_has_no_face(data_dir: Path, detector):
    image = read_image(str(data_dir / "groups_compreface" / "017_0.jpg"))
    assert detect_faces(image, detector, max_side_px=1280) == []


def test_the_customer_in_front_pays_when_a_small_face_is_behind(data_dir: Path, detector):
    image = read_image(str(data_dir / "groups_compreface" / "007_B.jpg"))
    customer = detect_faces(image, detector)[0]
    height, width = image.shape[:2]
    passer_by = scale_face(customer, 0.3, (width * 0.65, 0.0))
    assert choose_paying_face([passer_by, customer], width, height) is customer


def test_detection_on_a_scaled_frame_maps_boxes_back_to_frame_pixels(data_dir: Path, detector):
    image = read_image(str(data_dir / "groups_compreface" / "001_A.jpg"))  # 4912 x 7360
    face = detect_faces(image, detector, max_side_px=320)[0]
    nose_x, nose_y = 2109, 2261
    assert face.box_xyxy[0] < nose_x < face.box_xyxy[2]
    assert face.box_xyxy[1] < nose_y < face.box_xyxy[3]
    assert face.width > 300  # frame pixels, not the 320 px working copy
