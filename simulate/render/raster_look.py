"""The footage look in the raster renderer: textured surfaces and a sky/ground ambient.

Scenes dressed by :mod:`simulate.environments` are drawn with a second set of shader
programs compiled with ``FOOTAGE`` defined (the plain look's programs, and so its pixels,
stay as they were). Two more patterns exist there: 4, a textured object (the cached image of
:mod:`simulate.textures` mapped triplanar in the body frame, so it moves with the object),
and 5, a textured floor (world x, y over ``tile_m``). The ambient term becomes a hemisphere
between the sky's colour above and the floor's below, and textured floors get a specular
highlight from their finish.

Textures are uploaded once per process as linear half-float images with mipmaps (trilinear
filtering is as deterministic as the rest of the rasterizer: same scene, same pixels).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from simulate import textures

TEXTURE_UNIT = 6  # units 0-5 hold the shadow, lamp, glass and mirror maps
TEXTURE_SIZE = 256
MAX_CACHED = 96
TEXTURED_OBJECT, TEXTURED_FLOOR = 4, 5
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def is_footage(scene) -> bool:
    return "environment" in scene.extras


def floor_pattern(floor, footage: bool, plain_patterns: dict) -> int:
    if footage and floor.pattern in textures.FINISHES:
        return TEXTURED_FLOOR
    return plain_patterns.get(floor.pattern, 2)


def textured(obj) -> bool:
    return bool(obj.texture) and obj.transmission <= 0 and obj.texture in textures.FINISHES


class TextureCache:
    """GL textures of (kind, variant), least recently used dropped past ``MAX_CACHED``."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._tex: OrderedDict = OrderedDict()

    def get(self, kind: str, variant: int):
        key = (kind, int(variant) % textures.VARIANTS)
        tex = self._tex.get(key)
        if tex is None:
            img = textures.linear(kind, key[1], TEXTURE_SIZE).astype(np.float16)
            tex = self.ctx.texture((TEXTURE_SIZE, TEXTURE_SIZE), 3, data=np.ascontiguousarray(img).tobytes(), dtype="f2")
            tex.build_mipmaps()
            tex.filter = (self.ctx.LINEAR_MIPMAP_LINEAR, self.ctx.LINEAR)
            tex.repeat_x = tex.repeat_y = True
            self._tex[key] = tex
            while len(self._tex) > MAX_CACHED:
                self._tex.popitem(last=False)[1].release()
        self._tex.move_to_end(key)
        return tex

    def release(self) -> None:
        for tex in self._tex.values():
            tex.release()
        self._tex.clear()


def ambient_colors(scene) -> tuple[tuple, tuple]:
    """Hemisphere ambient: unit-luminance sky colour above, a darker floor bounce below."""
    sky = np.asarray(scene.background, float)
    ground = np.asarray(scene.floor.color, float)
    up = sky / max(float(sky @ _LUMA), 1e-3)
    down = 0.55 * ground / max(float(ground @ _LUMA), 1e-3)
    up = 0.5 * up + 0.5  # tinted, not coloured: an overcast sky is close to white
    down = 0.5 * down + 0.25
    return tuple(float(v) for v in up), tuple(float(v) for v in down)


def bind(cache: TextureCache, prog, kind: str, variant: int, scale_m: float, set_uniform) -> None:
    """Bind the texture of ``kind`` for the next draw with ``prog``."""
    cache.get(kind, variant).use(location=TEXTURE_UNIT)
    set_uniform(prog, "u_tex_m", float(scale_m))
    set_uniform(prog, "u_tex_mean", tuple(textures.mean_color(kind, variant, TEXTURE_SIZE)))
