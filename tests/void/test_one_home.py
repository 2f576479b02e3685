"""One home for each piece of shared math and each shared constant, and a core that knows no
stage. These scan the source (AST), so a copy added later fails here, not in a review."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from simulate import rotation
from void import constants, regions

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("void", "simulate", "train", "evaluate", "leaderboard", "benchmarks")
STAGES = ("simulate", "train", "evaluate", "leaderboard")

# name -> the one module allowed to define it
HOMES = {
    **{name: "void/constants.py" for name in ("REGION_NAMES", "MASK_ENCODINGS", "FLOW_METHODS", "EXECUTORS")},
    **{
        name: "void/regions.py"
        for name in ("PSNR_CAP_DB", "DATA_RANGE", "psnr_from_mse", "region_psnr", "region_labels", "region_sums",
                     "region_counts", "squared_error", "PooledPSNR")
    },
    **{name: "simulate/rotation.py" for name in ("quat_matrix", "quat_rotate", "quat_mul", "quat_z")},
    "paired_bootstrap": "leaderboard/stats.py",
}

# A constant "kept equal by a comment" (``X = (...)  # = other.module.X``) is a second home.
EQUAL_BY_COMMENT = re.compile(r"#\s*=\s*[A-Za-z_][\w.]*\.[A-Z][A-Z0-9_]*\b")
# Files owned by work in progress elsewhere, with the reason; keep this list short.
ALLOWED_COMMENTS: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def _defined_names(tree: ast.Module):
    """Names a module binds itself (not imports): defs, classes and assignments, any depth."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node.lineno
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    yield t.id, node.lineno


def _string_tuples(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List)) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
        ):
            yield tuple(e.value for e in node.elts), node.lineno


def test_shared_names_are_defined_only_in_their_home():
    wrong = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for name, line in _defined_names(ast.parse(path.read_text(), rel)):
            if name in HOMES and HOMES[name] != rel:
                wrong.append(f"{rel}:{line} defines {name} (its home is {HOMES[name]})")
    assert not wrong, "\n".join(wrong)


def test_shared_tuples_are_not_retyped():
    """A literal equal to a shared tuple (in any order) is a copy under another name."""
    shared = {frozenset(getattr(constants, n)): n for n in ("REGION_NAMES", "MASK_ENCODINGS", "FLOW_METHODS")}
    wrong = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "void/constants.py":
            continue
        for values, line in _string_tuples(ast.parse(path.read_text(), rel)):
            name = shared.get(frozenset(values))
            if name and len(values) == len(getattr(constants, name)):
                wrong.append(f"{rel}:{line} spells out {values}: import void.constants.{name}")
    assert not wrong, "\n".join(wrong)


def test_no_quaternion_matrix_outside_its_home():
    formula = re.compile(r"1\.?0?\s*-\s*2\.?0?\s*\*\s*\(\s*y\s*\*\s*y\s*\+\s*z\s*\*\s*z\s*\)")
    wrong = [
        p.relative_to(ROOT).as_posix()
        for p in _sources()
        if p.relative_to(ROOT).as_posix() != "simulate/rotation.py" and formula.search(p.read_text())
    ]
    assert not wrong, f"quaternion -> matrix written out again in {wrong}: use simulate.rotation"


def test_no_constant_kept_equal_by_a_comment():
    wrong = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if EQUAL_BY_COMMENT.search(line) and rel not in ALLOWED_COMMENTS:
                wrong.append(f"{rel}:{i}: {line.strip()}")
    assert not wrong, "import the constant from its home instead:\n" + "\n".join(wrong)


def test_the_core_imports_no_stage():
    """``void/`` outside ``void/app/`` (the application layer) depends on no stage."""
    wrong = []
    for path in sorted((ROOT / "void").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("void/app/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in STAGES:
                    wrong.append(f"{rel}:{node.lineno} imports {name}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- the math itself


def test_quat_matrix_normalises_and_rotates():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(5, 4))
    m = rotation.quat_matrix(q)
    assert np.allclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=1e-12)  # orthonormal despite |q| != 1
    assert np.allclose(np.linalg.det(m), 1.0)
    assert np.allclose(rotation.quat_matrix(3.0 * q), m)
    # 90 degrees about z takes x to y; composing two gives 180 degrees
    qz = rotation.quat_z(np.pi / 2)
    assert np.allclose(rotation.quat_rotate(qz, np.array([[1.0, 0.0, 0.0]])), [[0.0, 1.0, 0.0]])
    assert np.allclose(rotation.quat_matrix(rotation.quat_mul(qz, qz)), np.diag([-1.0, -1.0, 1.0]))
    assert np.array_equal(rotation.quat_matrix([0.0, 0.0, 0.0, 0.0]), np.eye(3))
    assert np.isnan(rotation.quat_matrix([np.nan] * 4)).all()


@pytest.mark.parametrize("order", [constants.REGION_NAMES])
def test_region_psnr_is_capped_and_ordered(order):
    t = np.zeros((2, 4, 4, 3), np.uint8)
    mask = np.full((2, 4, 4), 255, np.uint8)
    mask[:, :2] = 0
    got = regions.region_psnr(t, t, mask)
    assert tuple(got) == order
    assert got["removed"] == got["keep"] == got["all"] == regions.PSNR_CAP_DB
    assert np.isnan(got["affected"])


def test_no_file_points_outside_the_repository():
    """A user's clone has only the repository: docs live in docs/, not in a sibling folder."""
    outside = re.compile(r"\.\./shared\b|/work/shared\b|\b(?:ENV|DESIGN|STYLE)\.md\b")
    files = [ROOT / "pyproject.toml", ROOT / ".ci" / "run", *ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")]
    files += _sources() + sorted((ROOT / "tests").rglob("*.py"))
    wrong = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in files
        if p.is_file()
        for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if outside.search(line) and p != Path(__file__).resolve()
    ]
    assert not wrong, "references to files outside the repository: " + ", ".join(wrong)
