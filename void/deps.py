"""Availability of optional heavy dependencies, and the error that says how to get them.

Heavy stacks are imported lazily by the one module that needs them, through :func:`require`,
so ``import void`` and ``void --help`` work on a machine that has none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from void.errors import VoidError

# import name -> (pip extra that provides it, what it is for)
EXTRAS = {
    "pybullet": ("simulate", "physics simulation"),
    "moderngl": ("simulate", "the fast GL renderer"),
    "bpy": ("blender", "Blender Cycles rendering"),
    "OpenEXR": ("blender", "reading Blender's EXR passes"),
    "ray": ("ray", "Ray cluster execution"),
    "deepspeed": ("train", "DeepSpeed training"),
    "tensorboard": ("train", "TensorBoard logging"),
    "torchmetrics": ("evaluate", "fidelity metrics"),
    "cv2": ("evaluate", "OpenCV (optical flow, inpainting)"),
    "lpips": ("lpips", "the LPIPS metric"),
    "streamlit": ("study", "the preference-study app"),
    "sqlalchemy": ("study", "the vote store"),
    "alembic": ("study", "vote-store migrations"),
    "choix": ("study", "Bradley-Terry analysis"),
    "krippendorff": ("study", "inter-rater agreement"),
    "statsmodels": ("study", "Wilson intervals and power analysis"),
    "pandas": ("leaderboard", "result tables"),
    "pyarrow": ("leaderboard", "parquet result tables"),
    "matplotlib": ("leaderboard", "leaderboard plots"),
    "yaml": ("study", "YAML study configs"),
    "playwright": ("test", "browser tests"),
    "webdataset": ("export", "WebDataset tar shards"),
    "datasets": ("export", "Hugging Face datasets"),
}


class MissingDependency(VoidError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""


def install_hint(module: str) -> str:
    extra, _ = EXTRAS.get(module, ("all", module))
    return f'pip install "void-bench[{extra}]"'


def available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, purpose = EXTRAS.get(module, ("all", module))
        raise MissingDependency(
            f"{module} is needed for {purpose} but could not be imported ({exc}). "
            f'Install it with: pip install "void-bench[{extra}]"'
        ) from exc
