"""Renderers: ``raster`` (fast GL rasterizer, the default) and ``cycles`` (Blender)."""

from __future__ import annotations

from simulate.render.base import Renderer, RenderPasses, Views

__all__ = ["Renderer", "RenderPasses", "Views", "make_renderer"]


def make_renderer(
    name: str, *, spp: int = 16, denoiser: bool = False, device: str = "cpu", threads: int = 0,
    animated_seed: bool = False, film: bool = True,
) -> Renderer:
    """Build a renderer by name; each backend's heavy imports happen only here."""
    if name == "raster":
        from simulate.render.raster import RasterRenderer

        return RasterRenderer()
    if name == "cycles":
        from simulate.render.cycles import CyclesRenderer

        return CyclesRenderer(spp=spp, denoiser=denoiser, device=device, threads=threads, animated_seed=animated_seed,
                              film=film)
    raise ValueError(f"unknown renderer {name!r}; expected raster or cycles")
