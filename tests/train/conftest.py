"""Training tests: make ``train_helpers`` importable (tests run with --import-mode=importlib)."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent))  # appended: never shadows a package
