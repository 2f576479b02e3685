"""PSNR and SSIM, whole frame and per region, against scikit-image and torchmetrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from evaluate.metrics import core, fidelity
from void import quadmask


def _videos(seed=0, t=4, h=40, w=48, noise=12.0):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 256, size=(t, h, w, 3)).astype(np.uint8)
    target = np.clip(target.astype(float) * 0.5 + 64, 0, 255).astype(np.uint8)
    pred = np.clip(target + rng.normal(0, noise, target.shape), 0, 255).astype(np.uint8)
    return pred, target


def _mask(t=4, h=40, w=48):
    mask = np.full((t, h, w), quadmask.KEEP, np.uint8)
    mask[:, 5:15, 5:15] = quadmask.REMOVE
    mask[:, 5:15, 15:20] = quadmask.OVERLAP
    mask[:, 20:30, :] = quadmask.AFFECTED
    mask[-1, 20:30, :] = quadmask.KEEP  # regions need not appear in every frame
    return mask


def test_region_labels_and_counts_on_a_hand_built_mask():
    mask = _mask()
    counts = dict(zip(core.REGION_NAMES, core.region_counts(core.region_labels(mask))))
    assert counts["all"] == mask.size
    assert counts["removed"] == 4 * (100 + 50)  # 0 and 63 both belong to "removed"
    assert counts["affected"] == 3 * 10 * 48
    assert counts["keep"] == mask.size - counts["removed"] - counts["affected"]
    for name in core.REGION_NAMES[1:]:
        assert counts[name] == core.region_mask(mask, name).sum()


def test_region_labels_reject_other_values():
    mask = _mask()
    mask[0, 0, 0] = 100
    with pytest.raises(quadmask.QuadmaskError, match="100"):
        core.region_labels(mask)


def test_psnr_matches_skimage_whole_and_per_region():
    pred, target = _videos()
    mask = _mask()
    ours = fidelity.region_psnr(pred, target, mask)
    assert ours["all"] == pytest.approx(sk_psnr(target, pred, data_range=255), abs=1e-9)
    for name in ("removed", "affected", "keep"):
        region = quadmask.region(mask, name)
        ref = sk_psnr(target[region], pred[region], data_range=255)  # MSE pooled over the region
        assert ours[name] == pytest.approx(ref, abs=1e-9), name


def test_psnr_known_answer_error_only_in_the_affected_region():
    target = np.full((3, 10, 10, 3), 100, np.uint8)
    pred = target.copy()
    mask = np.full((3, 10, 10), 255, np.uint8)
    mask[:, :2] = 127  # 20 % of the pixels
    pred[mask == 127] += 10
    got = fidelity.region_psnr(pred, target, mask)
    assert got["affected"] == pytest.approx(10 * math.log10(255**2 / 100))
    assert got["all"] == pytest.approx(10 * math.log10(255**2 / 20))  # MSE 100 on a fifth
    assert got["keep"] == fidelity.PSNR_CAP_DB  # exact: capped, not infinite
    assert math.isnan(got["removed"])  # empty region


def _sk_ssim_map(pred, target):
    """scikit-image's SSIM map with the same border: pad by reflection, crop after."""
    r = fidelity.SSIM_RADIUS
    out = []
    for p, t in zip(pred, target):
        pp = np.pad(p.astype(np.float64), ((r, r), (r, r), (0, 0)), mode="reflect")
        tp = np.pad(t.astype(np.float64), ((r, r), (r, r), (0, 0)), mode="reflect")
        _, full = sk_ssim(tp, pp, data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True)
        out.append(full[r:-r, r:-r].mean(-1))
    return np.stack(out)


def test_ssim_map_matches_skimage_and_region_means_follow():
    pred, target = _videos(seed=1)
    mask = _mask()
    ours = fidelity.ssim_map(pred, target)
    ref = _sk_ssim_map(pred, target)
    assert np.abs(ours - ref).max() < 1e-4
    got = fidelity.region_ssim(pred, target, mask)
    assert got["all"] == pytest.approx(ref.mean(), abs=1e-5)
    for name in ("removed", "affected", "keep"):
        assert got[name] == pytest.approx(ref[quadmask.region(mask, name)].mean(), abs=1e-5), name


def test_ssim_over_all_equals_torchmetrics():
    torch = pytest.importorskip("torch")
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    pred, target = _videos(seed=2)
    tp = torch.from_numpy(pred).permute(0, 3, 1, 2).double()
    tt = torch.from_numpy(target).permute(0, 3, 1, 2).double()
    ref = float(tm_ssim(tp, tt, data_range=255.0))
    got = fidelity.region_ssim(pred, target, np.full(pred.shape[:3], 255, np.uint8))
    assert got["all"] == pytest.approx(ref, abs=1e-5)
    assert got["keep"] == pytest.approx(ref, abs=1e-5)


def test_identical_videos_score_perfectly():
    _, target = _videos(seed=3)
    mask = _mask()
    assert all(v == 1.0 for v in fidelity.region_ssim(target, target, mask).values())
    assert all(v == fidelity.PSNR_CAP_DB for v in fidelity.region_psnr(target, target, mask).values())


def test_chunked_updates_equal_one_update():
    pred, target = _videos(seed=4, t=7)
    mask = np.concatenate([_mask(), _mask()[:3]])
    for cls in (fidelity.RegionPSNR, fidelity.RegionSSIM):
        whole = cls()
        whole.update(pred, target, mask)
        chunked = cls()
        for i in range(0, 7, 3):
            chunked.update(pred[i : i + 3], target[i : i + 3], mask[i : i + 3])
        for k, v in whole.compute().items():
            assert chunked.compute()[k] == pytest.approx(v, abs=1e-12), (cls.__name__, k)


def test_metrics_declare_their_direction():
    assert fidelity.RegionPSNR.higher_is_better and fidelity.RegionSSIM.higher_is_better
