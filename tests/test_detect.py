"""Object detection with Google's int8 SSD-MobileNetV1 (COCO) on LiteRT: real model, real photos, boxes in photo pixels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explainer import catalogue
from explainer.detect.detector import Detector, check_threshold, decode, detect_image, load_detector, prepare, warm_up
from explainer.detect.labels import class_name, coco_names, read_labelmap
from explainer.detect.ssd import ssd_facts
from explainer.errors import AssetError, InvalidInputError
from explainer.images import load_image
from tests.conftest import require_shared

MODEL_FILE = "ssd_mobilenet_v1_coco_quant.tflite"


@pytest.fixture(scope="module")
def detector(weights_dir: Path) -> Detector:
    require_shared(weights_dir / MODEL_FILE, f"the detector {MODEL_FILE}")
    loaded = load_detector(weights_dir, download=False)
    warm_up(loaded)
    return loaded


@pytest.fixture(scope="module")
def photos(photos_dir: Path) -> dict[str, Image.Image]:
    return {name: load_image(photos_dir / f"{name}.jpg") for name in ("cat", "bird", "sunflower")}


def test_pinned_files_are_the_shared_ones(weights_dir: Path) -> None:
    for key in ("ssd_mobilenet_v1_coco_quant", "coco_labelmap"):
        asset = catalogue.get(key)
        path = require_shared(weights_dir / asset.filename, asset.filename)
        assert path.stat().st_size == asset.size
        assert catalogue.sha256_of(path) == asset.sha256


def test_labels_are_the_label_maps_in_both_languages(weights_dir: Path) -> None:
    labels = read_labelmap(require_shared(weights_dir / "coco_labelmap.txt", "coco_labelmap.txt"))
    assert len(labels) == 91 and labels[0] == "???" and labels.count("???") == 11
    assert [en for en, _ in coco_names()] == [n for n in labels if n != "???"]
    assert len(coco_names()) == 80 and len({zh for _, zh in coco_names()}) == 80
    # class id c is line c + 1: id 0 = person, 15 = bird, 16 = cat (COCO's category ids minus one)
    assert [class_name(labels, c) for c in (0, 15, 16, 89)] == ["person", "bird", "cat", "toothbrush"]
    assert [class_name(labels, c, "zh") for c in (0, 15, 16)] == ["人", "鸟", "猫"]
    assert class_name(labels, 11) == "???"  # COCO's unused id 12


def test_cat_and_bird(detector: Detector, photos) -> None:
    cat = detect_image(photos["cat"], detector)
    assert cat.size == (512, 341)
    best = cat.detections[0]
    assert (best.label, best.index) == ("cat", 16) and best.score >= 0.5
    # The cat fills the left two thirds of the photo, top to bottom (measured: about 47, 45, 363, 333).
    x0, y0, x1, y1 = best.box
    assert 20 <= x0 <= 80 and 20 <= y0 <= 80 and 330 <= x1 <= 400 and 300 <= y1 <= 341
    bird = detect_image(photos["bird"], detector)
    top = bird.detections[0]
    assert top.label == "bird" and top.score >= 0.5
    x0, y0, x1, y1 = top.box  # the bird spans almost the whole width, below the top fifth (about 40, 84, 487, 324)
    assert x0 <= 80 and x1 >= 440 and 50 <= y0 <= 120 and 290 <= y1 <= 343
    # Score order, boxes inside the photo, the threshold is what the list keeps.
    scores = [d.score for d in cat.detections]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 10
    assert all(0 <= d.box[0] <= d.box[2] <= 512 and 0 <= d.box[1] <= d.box[3] <= 341 for d in cat.detections)
    assert [d.label for d in cat.above(0.5)] == ["cat"]
    assert cat.as_dict(0.5)["detections"] == [best.as_dict()]


def test_object_in_a_corner_of_a_large_blank_canvas(detector: Detector, photos) -> None:
    """Alignment: the bird pasted bottom-right on a 1200×900 grey canvas gets its box there, in canvas pixels."""
    bird = photos["bird"]
    canvas = Image.new("RGB", (1200, 900), (128, 128, 128))
    left, top = 1200 - bird.width, 900 - bird.height  # (688, 557)
    canvas.paste(bird, (left, top))
    result = detect_image(canvas, detector)
    assert result.size == (1200, 900)
    best = result.detections[0]
    assert best.label == "bird" and best.score >= 0.5, [d.as_dict() for d in result.detections[:3]]
    x0, y0, x1, y1 = best.box
    # Inside the pasted photo (a margin of 60 px for the coarse 300×300 view), covering the bird's extent
    # there (the bird alone is at about 40..487 × 84..324 in its photo: 728..1175 × 641..881 on the canvas).
    assert left - 60 <= x0 <= left + 60 and top - 60 <= y0 <= top + 100
    assert x1 >= left + 470 and y1 >= top + 300
    assert not any(d.label == "bird" and d.box[0] < 600 for d in result.above(0.5))


def test_portrait_photo_with_an_exif_rotation(detector: Detector, photos) -> None:
    """A phone's portrait photo stored sideways with an orientation tag: boxes land on the photo as shown."""
    cat = photos["cat"]
    upright = Image.new("RGB", (600, 900), (200, 200, 200))
    upright.paste(cat, (44, 900 - cat.height - 20))  # the cat in the lower part of the portrait
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # the sensor's landscape pixels, 900×600
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = io.BytesIO()
    stored.save(data, format="JPEG", quality=95, exif=exif.tobytes())
    shown = load_image(data.getvalue(), "portrait.jpg")
    assert shown.size == (600, 900)
    result = detect_image(shown, detector)
    assert result.size == (600, 900)
    cat_box = next(d for d in result.detections if d.label == "cat" and d.score >= 0.5).box
    direct = next(d for d in detect_image(upright, detector).detections if d.label == "cat").box
    assert max(abs(a - b) for a, b in zip(cat_box, direct)) < 15  # the same box as on the upright photo (JPEG noise)
    assert cat_box[1] > 900 - cat.height - 20 - 40 and cat_box[3] > 800  # in the lower part of the portrait


def test_nothing_coco_names_on_a_blank_photo(detector: Detector) -> None:
    result = detect_image(Image.new("RGB", (640, 480), (255, 255, 255)), detector)
    assert result.above(0.5) == ()


def test_prepare_stretches_the_whole_photo() -> None:
    image = Image.new("RGB", (200, 100), (255, 0, 0))
    image.paste((0, 0, 255), (100, 0, 200, 100))  # right half blue
    batch = prepare(image)
    assert batch.shape == (1, 300, 300, 3) and batch.dtype == np.uint8
    assert (batch[0, :, :140] == (255, 0, 0)).all() and (batch[0, :, 160:] == (0, 0, 255)).all()


def test_decode_maps_normalised_boxes_to_photo_pixels() -> None:
    labels = ("???", "person", "bicycle")
    outputs = {"boxes": np.array([[[0.1, 0.2, 0.5, 0.9], [0.0, 0.0, 1.2, 0.5]]], np.float32),
               "classes": np.array([[1, 0]], np.float32), "scores": np.array([[0.4, 0.8]], np.float32),
               "count": np.array([2], np.float32)}
    found = decode(outputs, (1000, 500), labels)
    assert [(d.label, d.score) for d in found] == [("person", pytest.approx(0.8)), ("bicycle", pytest.approx(0.4))]
    assert found[0].box == pytest.approx((0.0, 0.0, 500.0, 500.0))  # clipped to the photo
    assert found[1].box == pytest.approx((200.0, 50.0, 900.0, 250.0))


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_threshold_outside_0_1_is_refused(value: float) -> None:
    with pytest.raises(InvalidInputError):
        check_threshold(value)
    assert check_threshold(0.25) == 0.25


def test_ssd_facts_read_from_the_file(weights_dir: Path) -> None:
    facts = ssd_facts(require_shared(weights_dir / MODEL_FILE, MODEL_FILE))
    assert facts.input_size == (300, 300)
    assert [f.size for f in facts.feature_maps] == [(19, 19), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]
    assert [f.boxes_per_cell for f in facts.feature_maps] == [3, 6, 6, 6, 6, 6]
    assert [f.channels for f in facts.feature_maps] == [384, 768, 384, 192, 192, 96]
    assert [f.layer for f in facts.feature_maps][:2] == ["Conv2d_11_pointwise", "Conv2d_13_pointwise"]
    assert facts.boxes_scored == 1917 == sum(f.boxes for f in facts.feature_maps)
    assert (facts.num_classes, facts.max_detections, facts.classes_per_detection) == (90, 10, 1)
    assert facts.iou_threshold == pytest.approx(0.6) and facts.scores_before_nms == 1917 * 90
    assert all(f.class_outputs == 91 for f in facts.feature_maps)
    # The default boxes of a 19×19 map sit at the cells' centres: cell (9, 9) is the middle of the image.
    middle = facts.anchors_of(facts.feature_maps[0])[9, 9]
    assert middle[:, :2] == pytest.approx(np.full((3, 2), 0.5), abs=0.01)
    last = facts.anchors_of(facts.feature_maps[5])[0, 0]
    assert last.shape == (6, 4) and last[:, 2].max() > 0.9  # the 1×1 map's boxes cover the whole image


def test_offline_names_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(catalogue.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(catalogue.WEIGHTS_DIR_ENV, raising=False)
    monkeypatch.setenv(catalogue.OFFLINE_ENV, "1")
    with pytest.raises(AssetError) as err:
        load_detector(download=True)
    assert "coco_labelmap.txt" in err.value.message("en")


@pytest.mark.slow
def test_three_tasks_on_one_photo(weights_dir: Path, detector: Detector, photos) -> None:
    """Classify, detect and segment the cat with Google's three int8 models: answers and times of one run."""
    from explainer.detect.tasks import TASKS, three_tasks
    from explainer.labels import imagenet_label
    from explainer.litert import load_tflite
    from explainer.segment.deeplab import load_segmenter

    for name in ("mobilenet_v2_1.0_224_quant.tflite", "deeplabv3_mnv2_pascal_quant.tflite"):
        require_shared(weights_dir / name, name)
    classifier = load_tflite("mobilenet_v2_1.0_224_quant", weights_dir, download=False)
    segmenter = load_segmenter("deeplabv3_mobilenet_v2", weights_dir, download=False)
    rows = three_tasks(photos["cat"], classifier, detector, segmenter, runs=2)
    assert [r.task for r in rows] == list(TASKS) and [r.input_side for r in rows] == [224, 300, 513]
    assert all(0 < r.invoke_ms <= r.median_ms and r.runs == 2 for r in rows)
    assert "cat" in imagenet_label(rows[0].answer[0]) or imagenet_label(rows[0].answer[0]) == "tabby"
    assert [label for label, _ in rows[1].answer] == ["cat"]
    assert 8 in [index for index, _ in rows[2].answer]  # PASCAL VOC's cat
