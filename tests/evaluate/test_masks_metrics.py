"""Mask-track metrics against values derived by hand on tiny quadmasks.

The reference clip: T frames of 20x20, an object (0) at rows 12-15, cols 2-5 and a 4x4
affected square (127) at rows 5-8, cols 5-8. Shifting the square right by d pixels keeps
4 x (4 - d) of its 16 pixels per frame: IoU = 4(4-d) / (16 + 4d), precision = recall =
(4-d)/4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluate.masks import baselines, metrics
from void import quadmask

T = 6


def clip(affected_from: int = 0, shift_px: int = 0, frames: int = T) -> np.ndarray:
    m = np.full((frames, 20, 20), quadmask.KEEP, np.uint8)
    m[:, 12:16, 2:6] = quadmask.REMOVE
    m[affected_from:, 5:9, 5 + shift_px : 9 + shift_px] = quadmask.AFFECTED
    return m


def rows(pred, truth, contact=None) -> dict[str, float]:
    return {f"{m}/{r}": v for m, r, v in metrics.score_mask(pred, truth, contact)}


def test_truth_scores_full_marks():
    truth = clip()
    truth[:, 12, 2:6] = quadmask.OVERLAP  # give every class some pixels
    got = rows(truth, truth, contact=3)
    for key in ("iou/remove", "iou/overlap", "iou/affected", "iou/changed", "precision/changed", "recall/changed",
                "boundary_f/changed", "precontact_recall/changed", "precontact_precision/changed", "stability/all"):
        assert got[key] == 1.0, key


def test_object_only_has_no_affected_recall():
    truth = clip()
    got = rows(baselines.object_only(truth == quadmask.REMOVE), truth, contact=3)
    assert got["recall/changed"] == 0.0
    assert got["iou/affected"] == 0.0
    assert got["iou/remove"] == 1.0
    assert math.isnan(got["precision/changed"])  # nothing predicted: precision undefined, not 0 or 1
    assert math.isnan(got["iou/overlap"])  # empty in both


@pytest.mark.parametrize("d", [1, 2, 3])
def test_shift_by_pixels_loses_what_the_overlap_says(d):
    got = rows(clip(shift_px=d), clip())
    assert got["iou/affected"] == pytest.approx(4 * (4 - d) / (16 + 4 * d))
    assert got["precision/changed"] == pytest.approx((4 - d) / 4)
    assert got["recall/changed"] == pytest.approx((4 - d) / 4)
    assert got["iou/remove"] == 1.0
    assert got["stability/all"] == 1.0  # a steady shift does not flicker


def test_boundary_f_tolerates_one_pixel_but_not_three():
    # tolerance round(0.008 * hypot(20, 20)) = 0 -> at least 1 px (a 4-neighbour cross)
    assert metrics.boundary_tolerance_px(20, 20) == 1
    assert rows(clip(shift_px=1), clip())["boundary_f/changed"] == 1.0
    # shifted by 3 (cols 8-11 vs 5-8), each 12-pixel outline has 6 pixels within 1 px of the
    # other: the shared column 8 (4) and the two row ends at column 9 (2). P = R = F = 0.5
    assert rows(clip(shift_px=3), clip())["boundary_f/changed"] == pytest.approx(0.5)


def test_late_and_early_masks_in_time():
    truth = clip(affected_from=2)  # 4 frames of 16 px: frames 2..5
    late = rows(clip(affected_from=3), truth, contact=3)
    # 3 of 4 frames found, nothing wrong marked
    assert late["iou/affected"] == pytest.approx(48 / 64)
    assert late["precision/changed"] == 1.0
    assert late["recall/changed"] == pytest.approx(0.75)
    # before contact (frames 0-2) the truth has frame 2's 16 px and the late mask none of them
    assert late["precontact_recall/changed"] == 0.0
    assert math.isnan(late["precontact_precision/changed"])
    early = rows(clip(affected_from=1), truth, contact=3)
    assert early["iou/affected"] == pytest.approx(64 / 80)
    # frames 0-2: predicted frames 1 and 2 (32 px), true frame 2 (16 px)
    assert early["precontact_recall/changed"] == 1.0
    assert early["precontact_precision/changed"] == pytest.approx(0.5)
    # no contact frame (or contact at frame 0): nothing comes before it
    assert math.isnan(rows(truth, truth, contact=None)["precontact_recall/changed"])
    assert math.isnan(rows(truth, truth, contact=0)["precontact_recall/changed"])


def test_flicker_lowers_stability_by_the_share_of_spurious_changes():
    truth = clip(frames=4)
    pred = truth.copy()
    pred[3][pred[3] == quadmask.AFFECTED] = quadmask.KEEP  # the square vanishes in the last frame
    # marked pixel pairs: 3 pairs x (16 square + 16 object) = 96; spurious: pair (2, 3) x 16
    assert rows(pred, truth)["stability/all"] == pytest.approx(1 - 16 / 96)


def test_dilated_marks_a_ring_around_the_object():
    obj = np.zeros((2, 11, 11), bool)
    obj[:, 5, 5] = True
    m = baselines.dilated(obj, 1)
    # MORPH_ELLIPSE of radius 1 is the 4-neighbour cross
    assert (m == quadmask.AFFECTED).sum() == 2 * 4
    assert (m == quadmask.REMOVE).sum() == 2
