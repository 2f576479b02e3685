"""``support``: objects that rest on others. Removing a support makes what it holds fall.

Three layouts, one per draw:

* ``stack``  2-3 pieces stacked on the floor; a lower piece is removed, everything above it
  drops;
* ``plank``  a plank bridges two blocks with an object on it; one block is removed, the plank
  tips down and the object slides or tumbles off;
* ``shelf``  a board on two posts holds an object; the board is removed, the object falls
  between the posts.

The removed support touches what it holds from the first step, and in the counterfactual the
held objects start in mid-air, so the contrast is there from frame 0.
"""

from __future__ import annotations

import math

import numpy as np

from simulate import sampling
from simulate.families.common import add_distractors, focus_points, rest_on, rest_on_floor
from simulate.scene import ObjectSpec, SceneSpec

NAME = "support"
INTERACTION = True
LAYOUTS = ("stack", "plank", "shelf")

# what can sit stably on a flat top: no spheres, no rocks that settle on a point
_TOP_SHAPES = ("box", "cylinder", "mesh")
_TOP_MESHES = ("duck", "mug", "teddy", "brick", "torus", "bunny")


def _block(rng, oid: int, role: str, half_xy, height: float, avoid=frozenset(), noun: str = "block") -> ObjectSpec:
    obj = sampling.make_object(rng, oid, role=role, shape="box", material=sampling.choice(rng, ["wood", "plastic", "metal"]),
                               avoid_colors=avoid)
    obj.size = [float(half_xy[0]), float(half_xy[1]), float(height / 2)]
    obj.mass_kg = float(np.clip(sampling.MATERIALS[obj.material].density_kg_m3 * 8 * np.prod(obj.size), 0.1, 30.0))
    obj.name = f"{sampling.color_name(obj)} {sampling.MATERIAL_WORDS[obj.material]} {noun}"
    return obj


def _top_object(rng, oid: int, max_extent: float, avoid=frozenset()) -> ObjectSpec:
    shape = sampling.choice(rng, _TOP_SHAPES, p=[0.35, 0.3, 0.35])
    mesh_key = sampling.choice(rng, _TOP_MESHES) if shape == "mesh" else None
    lo = min(0.1, max_extent * 0.8)
    obj = sampling.make_object(rng, oid, role="target", shape=shape, mesh_key=mesh_key,
                               extent_m=(lo, max_extent), avoid_colors=avoid)
    return obj


def _stack(rng, objects: list[ObjectSpec], extra: list) -> list[int]:
    levels = int(rng.integers(2, 4))
    half = float(rng.uniform(0.08, 0.14))
    below = None
    pieces = []
    for level in range(levels - 1):
        h = float(rng.uniform(0.1, 0.22))
        shrink = 1.0 - 0.15 * level
        blk = _block(rng, len(objects) + 1, "support", (half * shrink, half * shrink * rng.uniform(0.8, 1.0)), h,
                     avoid={sampling.color_name(p) for p in pieces})
        blk.orientation = sampling.quat_z(float(rng.uniform(0, 2 * math.pi)))
        if below is None:
            rest_on_floor(blk, (0.0, 0.0))
        else:
            jitter = rng.uniform(-0.2, 0.2, size=2) * half * 0.3
            rest_on(blk, below, xy=(below.position[0] + jitter[0], below.position[1] + jitter[1]))
        objects.append(blk)
        pieces.append(blk)
        below = blk
    top = _top_object(rng, len(objects) + 1, 2 * half * 0.9, avoid={sampling.color_name(p) for p in pieces})
    rest_on(top, below)
    objects.append(top)
    # remove a support piece: the bottom one or, in a 3-stack, maybe the middle one
    k = int(rng.integers(len(pieces)))
    pieces[k].role = "removed"
    return [pieces[k].id]


def _plank(rng, objects: list[ObjectSpec], extra: list) -> list[int]:
    span = float(rng.uniform(0.35, 0.6))
    h = float(rng.uniform(0.12, 0.25))
    yaw = float(rng.uniform(0, 2 * math.pi))
    axis = np.array([math.cos(yaw), math.sin(yaw)])
    blocks = []
    for side in (-1, 1):
        blk = _block(rng, len(objects) + 1, "support", (0.06, 0.08), h, avoid={sampling.color_name(b) for b in blocks})
        blk.orientation = sampling.quat_z(yaw)
        rest_on_floor(blk, axis * side * span / 2)
        objects.append(blk)
        blocks.append(blk)
    plank = _block(rng, len(objects) + 1, "support", (span / 2 + 0.08, float(rng.uniform(0.07, 0.1))),
                   float(rng.uniform(0.03, 0.05)), noun="plank")
    plank.orientation = sampling.quat_z(yaw)
    plank.position = [0.0, 0.0, h + plank.size[2] + 2e-3]
    objects.append(plank)
    top = _top_object(rng, len(objects) + 1, 0.16, avoid={sampling.color_name(plank)})
    offset = float(rng.uniform(-0.3, 0.3)) * span / 2
    rest_on(top, plank, xy=tuple(axis * offset))
    objects.append(top)
    # the plank tips towards the missing block and what it holds slides on past its end
    reach = span / 2 + 0.35
    extra.extend([[*(axis * reach), 0.0], [*(-axis * reach), 0.0]])
    gone = blocks[int(rng.integers(2))]
    gone.role = "removed"
    plank.role = "target"
    return [gone.id]


def _shelf(rng, objects: list[ObjectSpec], extra: list) -> list[int]:
    span = float(rng.uniform(0.3, 0.45))
    h = float(rng.uniform(0.2, 0.35))
    yaw = float(rng.uniform(0, 2 * math.pi))
    axis = np.array([math.cos(yaw), math.sin(yaw)])
    posts = []
    for side in (-1, 1):
        post = _block(rng, len(objects) + 1, "support", (0.035, 0.06), h, avoid={sampling.color_name(p) for p in posts},
                      noun="post")
        post.orientation = sampling.quat_z(yaw)
        rest_on_floor(post, axis * side * span / 2)
        objects.append(post)
        posts.append(post)
    board = _block(rng, len(objects) + 1, "removed", (span / 2 + 0.05, float(rng.uniform(0.08, 0.11))), 0.03,
                   avoid={sampling.color_name(posts[0])}, noun="board")
    board.orientation = sampling.quat_z(yaw)
    board.position = [0.0, 0.0, h + board.size[2] + 2e-3]
    objects.append(board)
    # the held object must fit between the posts to fall through
    top = _top_object(rng, len(objects) + 1, min(0.18, span - 0.12), avoid={sampling.color_name(board)})
    rest_on(top, board, xy=(0.0, 0.0))
    objects.append(top)
    return [board.id]


def sample_scene(rng: np.random.Generator, config) -> SceneSpec:
    layout = sampling.choice(rng, LAYOUTS)
    objects: list[ObjectSpec] = []
    extra: list = []  # more points the camera must see
    removed = {"stack": _stack, "plank": _plank, "shelf": _shelf}[layout](rng, objects, extra)
    taken = [(np.asarray(o.position[:2]), sampling.footprint_radius(o)) for o in objects]
    add_distractors(rng, objects, int(rng.integers(0, 3)), taken, r_range=(0.3, 0.65))
    return sampling.scene(
        rng, config, NAME, 0, objects, removed, focus_points(objects, extra), elevation_deg=(12, 35),
        extras={"layout": layout},
    )
