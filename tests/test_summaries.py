"""Summary numbers pinned exactly on the edge cases: zero terms, empty classes, an empty foreground, no images.

Easy inputs (identical masks, every prediction agreeing) cannot tell a mean over the classes present in either
mask from a mean over the classes both found, or an empty foreground's IoU from a division by zero.
"""

from __future__ import annotations

import numpy as np
import torch

from explainer.quant.compare import Agreement, ImageResult, agreement
from explainer.segment.masks import class_shares, compare_masks

BG, CAT, PERSON = 0, 8, 15


def test_mean_iou_counts_a_class_found_by_one_mask_only_as_zero() -> None:
    a = np.array([[BG, BG, CAT, CAT]], np.uint8)
    b = np.array([[BG, BG, CAT, PERSON]], np.uint8)
    c = compare_masks(a, b)
    assert dict(c.iou) == {BG: 1.0, CAT: 0.5, PERSON: 0.0}
    assert c.mean_iou == 0.5  # (1 + 0.5 + 0) / 3; leaving the zero out would give 0.75
    assert c.agreement == 0.75
    # both masks have foreground at pixels 2 and 3: the foreground IoU ignores which class it is
    assert c.foreground_iou == 1.0


def test_empty_foreground_in_both_masks() -> None:
    a = np.zeros((3, 4), np.uint8)
    c = compare_masks(a, a.copy())
    assert c.agreement == 1.0 and dict(c.iou) == {BG: 1.0} and c.mean_iou == 1.0
    assert c.foreground_iou == 1.0  # nothing found by either: they agree (not 0/0)


def test_foreground_in_one_mask_only() -> None:
    a = np.zeros((2, 2), np.uint8)
    b = np.full((2, 2), PERSON, np.uint8)
    c = compare_masks(a, b)
    assert c.agreement == 0.0 and dict(c.iou) == {BG: 0.0, PERSON: 0.0} and c.mean_iou == 0.0
    assert c.foreground_iou == 0.0


def test_class_shares_ties_and_absent_classes() -> None:
    mask = np.array([[PERSON, PERSON, CAT, CAT, BG, BG, BG, BG]], np.uint8)
    shares = class_shares(mask)
    assert [(s.index, s.pixels, s.fraction) for s in shares] == [(BG, 4, 0.5), (CAT, 2, 0.25), (PERSON, 2, 0.25)]
    assert all(s.pixels > 0 for s in shares)  # the 18 absent classes are not listed with 0 %


def _result(fp32: int, int8_top5: list[int]) -> ImageResult:
    return ImageResult("p.jpg", str(fp32), [str(i) for i in int8_top5], fp32, int8_top5)


def test_agreement_shares_on_mixed_and_empty_sets() -> None:
    rows = [_result(1, [1, 2, 3, 4, 5]),  # agrees
            _result(2, [7, 2, 3, 4, 5]),  # not top-1, but in the top-5
            _result(3, [7, 8, 9, 10, 11])]  # neither
    result = Agreement(rows)
    assert result.n == 3 and result.top1_agreement == 1 / 3 and result.fp32_top1_in_int8_top5 == 2 / 3
    assert Agreement([]).top1_agreement == 0.0 and Agreement([]).fp32_top1_in_int8_top5 == 0.0


def test_agreement_from_logits_compares_float_top1_with_int8_ranking() -> None:
    fp32 = torch.tensor([[0.0, 5.0, 1.0, 2.0, 3.0, 4.0], [9.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    int8 = torch.tensor([[0.0, 5.0, 1.0, 2.0, 3.0, 4.0], [0.0, 9.0, 8.0, 7.0, 6.0, 5.0]])
    result = agreement(fp32, int8, ["a", "b"], list("uvwxyz"))
    assert [r.agrees for r in result.images] == [True, False]
    assert [r.fp32_in_int8_top5 for r in result.images] == [True, False]  # class 0 is int8's last of six
    assert result.images[1].int8_indices == [1, 2, 3, 4, 5]
