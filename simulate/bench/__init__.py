"""Frozen benchmark versions: a definition file per version, its build and its verification.

``void bench build OUT --version v1`` runs :func:`simulate.generate.generate` once per subset
of the definition and writes ``checksums.sha256`` and the dataset card; ``void bench verify
OUT`` recomputes the checksums and names the clips that differ.
"""

from simulate.bench.config import BenchBuildConfig, BenchVerifyConfig

__all__ = ["BenchBuildConfig", "BenchVerifyConfig", "build", "verify"]


def __getattr__(name):
    if name in ("build", "verify"):
        import importlib

        return getattr(importlib.import_module("simulate.bench.builder"), name)
    raise AttributeError(f"module 'simulate.bench' has no attribute {name!r}")
