"""LPIPS (Zhang et al. 2018) through the ``lpips`` package - only where it can be computed
honestly.

LPIPS needs three things: the ``lpips`` package, a torchvision that imports (the package
builds its backbone from ``torchvision.models``), and the backbone's pretrained ImageNet
weights in torch's hub cache, which torchvision would otherwise download on first use.
None of them is a given (``docs/dependencies.md``: torchvision does not load beside the CPU torch
wheel, and the weights cannot be downloaded on offline machines), so :func:`status` says
whether LPIPS is available and, if not, why and where to put the weights. A score is never
made from randomly initialised weights. This is the only module that imports ``lpips``.

The metric uses the spatial LPIPS map (one distance per pixel, inputs in [-1, 1]) so it is
region-wise like SSIM: the value of a region is the mean of the map over its pixels in all
frames. Lower is better.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from evaluate.metrics.core import REGION_NAMES, Metric, MetricSpec, check_frames, ratio, region_counts, region_labels, region_sums
from void import deps

# Backbone checkpoints torchvision fetches for each LPIPS network (file names as published).
BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
DEFAULT_NET = "alex"


def hub_checkpoints_dir() -> Path:
    """Where torch looks for downloaded weights (``torch.hub.get_dir()/checkpoints``).

    Resolved from the same environment variables torch reads, without importing torch.
    """
    if os.environ.get("TORCH_HOME"):
        hub = Path(os.environ["TORCH_HOME"]).expanduser() / "hub"
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        hub = Path(cache) / "torch" / "hub"
    return hub / "checkpoints"


def weights_hint(net: str = DEFAULT_NET) -> str:
    path = hub_checkpoints_dir() / BACKBONE_FILES[net]
    return (
        f"to enable LPIPS, install the lpips package with a working torchvision "
        f'({deps.install_hint("lpips")}) and put the torchvision {net} backbone checkpoint at {path} '
        f"(set TORCH_HOME to use another cache directory)"
    )


def status(net: str = DEFAULT_NET) -> tuple[bool, str]:
    """``(True, "")`` when LPIPS can be computed, else ``(False, reason and where to put weights)``."""
    if net not in BACKBONE_FILES:
        return False, f"unknown LPIPS network {net!r}; expected one of {sorted(BACKBONE_FILES)}"
    if not deps.available("lpips"):
        return False, f"the lpips package is not installed; {weights_hint(net)}"
    try:
        import torchvision  # noqa: F401  (lpips imports it; it fails beside a CPU-only torch)
    except Exception as exc:  # an ImportError or the OSError/RuntimeError of a broken extension
        return False, f"torchvision does not import ({type(exc).__name__}: {exc}); {weights_hint(net)}"
    weights = hub_checkpoints_dir() / BACKBONE_FILES[net]
    if not weights.is_file():
        return False, f"backbone weights not found at {weights}; {weights_hint(net)}"
    return True, ""


_MODELS: dict = {}


def _model(net: str):
    """One network per process: the runner makes a metric per video, loading is slow."""
    if net not in _MODELS:
        lpips = deps.require("lpips")
        _MODELS[net] = lpips.LPIPS(net=net, spatial=True, verbose=False).eval()
    return _MODELS[net]


class LPIPSMetric(Metric):
    name = "lpips"
    higher_is_better = False
    outputs = REGION_NAMES
    optional = True
    specs = (
        MetricSpec(
            "lpips",
            False,
            "LPIPS distance to rgb_removed (spatial map averaged over the region); only with real pretrained weights",
            REGION_NAMES,
            label="LPIPS",
        ),
    )

    @classmethod
    def create(cls, *, lpips_net: str = DEFAULT_NET, **options) -> "LPIPSMetric":
        return cls(lpips_net)

    def __init__(self, net: str = DEFAULT_NET, batch_frames: int = 8):
        ok, reason = status(net)
        if not ok:
            raise deps.MissingDependency(f"LPIPS is unavailable: {reason}")
        self.net = net
        self.batch_frames = batch_frames
        self.model = _model(net)
        super().__init__()

    def reset(self) -> None:
        self.total = np.zeros(len(REGION_NAMES))
        self.count = np.zeros(len(REGION_NAMES))

    def distance_map(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Spatial LPIPS ``(T, H, W)`` float."""
        import torch

        from void.video import to_tensor

        out = []
        with torch.no_grad():
            for i in range(0, pred.shape[0], self.batch_frames):
                d = self.model(to_tensor(pred[i : i + self.batch_frames]), to_tensor(target[i : i + self.batch_frames]))
                out.append(d[:, 0].float().cpu().numpy())
        return np.concatenate(out)

    def update(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray, labels: np.ndarray | None = None) -> None:
        check_frames(pred, target, mask)
        labels = region_labels(mask) if labels is None else labels
        self.total += region_sums(self.distance_map(pred, target), labels)
        self.count += region_counts(labels)

    def compute(self) -> dict[str, float]:
        return {r: float(v) for r, v in zip(REGION_NAMES, ratio(self.total, self.count))}
