import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(Path(__file__).resolve().parent))  # for `import toydata`; appended so it never shadows a package

from toydata import make_toy_dataset  # noqa: E402


@pytest.fixture(scope="session")
def toy_dataset(tmp_path_factory) -> Path:
    """2 samples x 8 frames x 32x32, written through the real dataset writer."""
    return make_toy_dataset(tmp_path_factory.mktemp("toy") / "toy", n=2, frames=8, size=32)


@pytest.fixture(scope="session")
def void_samples() -> Path:
    """Real sequences in VOID's inference layout (tests/data/void-samples: BigBen)."""
    cand = ROOT / "tests" / "data" / "void-samples"
    if (cand / "BigBen" / "input_video.mp4").is_file():
        return cand
    pytest.skip(f"VOID sample sequences not found ({cand})")
