"""Segmentation with Google's int8 DeepLabV3-MobileNetV2 on LiteRT: real model, real photos, aligned masks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from explainer.errors import AssetError
from explainer.images import load_image
from explainer.segment.deeplab import (INPUT_SIDE, PAD_VALUE, SEGMENTER_NAMES, fitted_size, load_segmenter,
                                       prepare, restore, segment_image)
from explainer.segment.labels import NUM_CLASSES, VOC_CLASSES, voc_color
from explainer.segment.masks import class_shares, compare_masks, mask_png, overlay

CAT = VOC_CLASSES[8]


@pytest.fixture(scope="module")
def models(weights_dir: Path):
    return {name: load_segmenter(name, weights_dir, download=False) for name in SEGMENTER_NAMES}


@pytest.fixture(scope="module")
def photos(weights_dir: Path) -> dict[str, Image.Image]:
    folder = weights_dir.parent / "images"
    if not (folder / "cat.jpg").is_file():
        pytest.skip("shared photos not found")
    return {name: load_image(folder / f"{name}.jpg") for name in ("cat", "bird")}


def test_labels_are_pascal_vocs_in_order(weights_dir: Path) -> None:
    lines = (weights_dir / "pascal_voc_segmentation_labels.txt").read_text().splitlines()
    assert [c.voc for c in VOC_CLASSES] == lines[:NUM_CLASSES]
    assert lines[NUM_CLASSES].strip() == ""  # the file's list ends there
    assert all(c.zh and c.en for c in VOC_CLASSES) and len({c.zh for c in VOC_CLASSES}) == NUM_CLASSES
    # PASCAL VOC's palette: background black, aeroplane dark red, person (15) pink-ish, cat (8) dark red-brown.
    assert [voc_color(i) for i in (0, 1, 8, 15)] == [(0, 0, 0), (128, 0, 0), (64, 0, 0), (192, 128, 128)]


@pytest.mark.parametrize("size,fitted", [((512, 341), (513, 342)), ((341, 512), (342, 513)), ((4000, 10), (513, 1)),
                                         ((513, 513), (513, 513)), ((100, 50), (513, 257))])
def test_fitted_size(size, fitted) -> None:
    assert fitted_size(*size) == fitted


def test_prepare_puts_the_photo_top_left_and_pads_with_zero() -> None:
    image = Image.new("RGB", (200, 100), (255, 0, 0))
    batch, fitted = prepare(image)
    assert batch.shape == (1, INPUT_SIDE, INPUT_SIDE, 3) and batch.dtype == np.uint8 and fitted == (513, 257)
    assert (batch[0, :257, :513] == (255, 0, 0)).all()
    assert (batch[0, 257:] == PAD_VALUE).all()


def test_restore_crops_the_padding_and_maps_back() -> None:
    output = np.zeros((1, INPUT_SIDE, INPUT_SIDE), np.int64)
    output[0, :257, 256:513] = 8  # right half of the photo area is "cat"
    output[0, 257:, :] = 15  # in the padding: must vanish
    mask = restore(output, (513, 257), (200, 100))
    assert mask.shape == (100, 200) and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 8}
    assert (mask[:, :99] == 0).all() and (mask[:, 101:] == 8).all()


@pytest.mark.parametrize("name", SEGMENTER_NAMES)
def test_main_object_on_the_shared_photos(models, photos, name: str) -> None:
    for photo, expected in (("cat", "cat"), ("bird", "bird")):
        result = segment_image(photos[photo], models[name], name)
        assert result.main_object is not None and result.main_object.label == expected, (name, photo, result.classes)
        assert result.mask.shape == (photos[photo].height, photos[photo].width)
        assert abs(sum(c.fraction for c in result.classes) - 1.0) < 1e-9
        assert [c.fraction for c in result.classes] == sorted((c.fraction for c in result.classes), reverse=True)
        assert result.latency_ms > 0
        assert 0.05 < result.main_object.fraction < 0.9


@pytest.mark.parametrize("canvas,corner", [((1400, 900), "bottom-right"), ((700, 1300), "top-right"),
                                           ((1300, 1000), "bottom-left")])
def test_mask_is_aligned_with_a_photo_whose_object_sits_in_a_corner(models, photos, canvas, corner) -> None:
    """The cat photo pasted into a corner of a larger white canvas: the cat pixels of the mask fall there."""
    cat = photos["cat"]
    width, height = canvas
    left = width - cat.width if "right" in corner else 0
    top = height - cat.height if "bottom" in corner else 0
    big = Image.new("RGB", canvas, (255, 255, 255))
    big.paste(cat, (left, top))
    model = models["deeplabv3_mobilenet_v2"]
    result = segment_image(big, model)
    assert result.mask.shape == (height, width)
    ys, xs = np.nonzero(result.mask == CAT.index)
    assert len(xs) > 0.2 * cat.width * cat.height * 0.45  # the cat is found (alone it covers about 45 %)
    inside = (xs >= left) & (xs < left + cat.width) & (ys >= top) & (ys < top + cat.height)
    assert inside.mean() > 0.98
    # No offset: the mirror image's mask, mirrored back, lines up with this one with zero shift. A padding
    # offset or a half-pixel bias in the resizing would shift it (the model itself was trained with flips).
    mirrored = segment_image(ImageOps.mirror(big), model).mask[:, ::-1] == CAT.index
    # Tolerance: one model pixel (the mask is 513 pixels across the longer side, then resized to the canvas).
    one_pixel = -(-max(canvas) // INPUT_SIDE)
    dx, dy = best_shift(mirrored, result.mask == CAT.index)
    assert abs(dx) <= one_pixel and abs(dy) <= one_pixel


def best_shift(moved: np.ndarray, fixed: np.ndarray, reach: int = 8) -> tuple[int, int]:
    """The (dx, dy) that, applied to ``moved``, gives the largest IoU with ``fixed``."""
    scores = {}
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            shifted = np.roll(moved, (dy, dx), axis=(0, 1))
            scores[(dx, dy)] = np.count_nonzero(shifted & fixed) / max(1, np.count_nonzero(shifted | fixed))
    return max(scores, key=scores.__getitem__)


def test_the_two_models_mostly_agree(models, photos) -> None:
    full = segment_image(photos["cat"], models["deeplabv3_mobilenet_v2"])
    half = segment_image(photos["cat"], models["deeplabv3_mobilenet_v2_dm05"])
    comparison = compare_masks(full.mask, half.mask)
    assert 0.85 < comparison.agreement < 1.0
    assert dict(comparison.iou)[CAT.index] > 0.7 and 0.7 < comparison.foreground_iou <= 1.0
    assert compare_masks(full.mask, full.mask).agreement == 1.0 == compare_masks(full.mask, full.mask).mean_iou


def test_class_shares_and_comparison_on_known_masks() -> None:
    a = np.array([[0, 0, 8, 8], [0, 0, 8, 8]], np.uint8)
    b = np.array([[0, 0, 0, 8], [0, 0, 0, 15]], np.uint8)
    shares = class_shares(a)
    assert [(s.label, s.pixels, s.fraction) for s in shares] == [("background", 4, 0.5), ("cat", 4, 0.5)]
    c = compare_masks(a, b)
    assert c.agreement == 5 / 8
    assert dict(c.iou) == {0: 4 / 6, 8: 1 / 4, 15: 0.0}
    assert c.foreground_iou == 2 / 4


def test_overlay_tints_only_the_objects() -> None:
    photo = Image.new("RGB", (4, 2), (10, 20, 30))
    mask = np.array([[0, 8, 8, 0], [0, 0, 0, 15]], np.uint8)
    assert np.array_equal(np.asarray(overlay(photo, mask, 0.0)), np.asarray(photo))
    full = np.asarray(overlay(photo, mask, 1.0))
    assert tuple(full[0, 1]) == voc_color(8) and tuple(full[1, 3]) == voc_color(15) and tuple(full[0, 0]) == (10, 20, 30)
    half = np.asarray(overlay(photo, mask, 0.5))
    assert tuple(half[0, 1]) == (37, 10, 15)  # (10+64)/2, (20+0)/2, (30+0)/2 rounded half to even
    with pytest.raises(ValueError):
        overlay(photo, mask[:, :3], 0.5)


def test_mask_png_keeps_class_indices(tmp_path: Path) -> None:
    mask = np.array([[0, 8], [15, 20]], np.uint8)
    path = tmp_path / "mask.png"
    mask_png(mask).save(path)
    again = Image.open(path)
    assert again.mode == "P" and np.array_equal(np.asarray(again), mask)
    assert tuple(again.getpalette()[8 * 3:8 * 3 + 3]) == voc_color(8)


def test_missing_litert_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, weights_dir: Path) -> None:
    """Where LiteRT has no wheel, loading says so (and nothing else breaks)."""
    from explainer import litert

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert not litert.litert_available()
    with pytest.raises(AssetError) as err:
        load_segmenter("deeplabv3_mobilenet_v2", weights_dir, download=False)
    assert err.value.key == "assets.no_litert"
    assert "ai-edge-litert" in err.value.message("en") and "LiteRT" in err.value.message("zh")
