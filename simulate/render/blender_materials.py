"""Procedural PBR materials in Cycles for the texture kinds of :mod:`simulate.textures`.

Runs inside the Blender worker only (``bpy`` is handed in). Each kind is a small node graph
of Blender's built-in textures (wave, noise, Voronoi, brick) feeding a Principled BSDF, with
the finish (roughness, metallic, anisotropy) the raster renderer uses too. The spec's colour
is the surface's mean colour: the graph varies it up and down around it, so the two
renderers agree on what colour a surface is. Coordinates are the object's own (a texture
moves with its object; the floor's object frame is the world), divided by the repeat size
and shifted by the variant, so variants differ and a sample renders the same every time.

Every surface with a texture is flagged ``TEXTURED_PROP`` by the caller: the signature pass
then codes position on the surface, so a moved textured object counts as changed.
"""

from __future__ import annotations

from typing import Any

from simulate import textures


def _node(tree, kind: str, **inputs):
    node = tree.nodes.new(kind)
    for name, value in inputs.items():
        node.inputs[name].default_value = value
    return node


def _mix(tree, factor_socket, a, b):
    mix = _node(tree, "ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = (*a, 1.0)
    mix.inputs["B"].default_value = (*b, 1.0)
    tree.links.new(factor_socket, mix.inputs["Factor"])
    return mix.outputs["Result"]


def _scaled(color, k: float) -> tuple[float, float, float]:
    return tuple(min(1.0, float(c) * k) for c in color[:3])


def _stretch(tree, vector, factors):
    node = tree.nodes.new("ShaderNodeVectorMath")
    node.operation = "MULTIPLY"
    node.inputs[1].default_value = factors
    tree.links.new(vector, node.inputs[0])
    return node.outputs["Vector"]


def _pattern(tree, kind: str, v, color) -> Any:
    """The base-colour socket of ``kind`` at texture coordinates ``v`` (one repeat per unit)."""
    links = tree.links
    if kind == "wood":
        wave = _node(tree, "ShaderNodeTexWave", Scale=9.0, Distortion=5.0, Detail=3.0)
        wave.wave_type, wave.bands_direction = "BANDS", "Y"
        links.new(_stretch(tree, v, (0.25, 1.0, 1.0)), wave.inputs["Vector"])
        return _mix(tree, wave.outputs["Fac"], _scaled(color, 0.6), _scaled(color, 1.15))
    if kind == "tiles":
        brick = _node(tree, "ShaderNodeTexBrick", Scale=4.0, **{"Mortar Size": 0.015, "Bias": 0.0})
        brick.offset, brick.squash = 0.0, 1.0
        brick.inputs["Brick Width"].default_value = 0.25 * 4.0 / 4.0
        brick.inputs["Row Height"].default_value = 0.25
        brick.inputs["Color1"].default_value = (*_scaled(color, 1.06), 1.0)
        brick.inputs["Color2"].default_value = (*_scaled(color, 0.93), 1.0)
        brick.inputs["Mortar"].default_value = (0.3, 0.29, 0.27, 1.0)
        links.new(v, brick.inputs["Vector"])
        return brick.outputs["Color"]
    if kind == "marble":
        wave = _node(tree, "ShaderNodeTexWave", Scale=3.0, Distortion=14.0, Detail=6.0)
        wave.wave_type, wave.bands_direction = "BANDS", "DIAGONAL"
        links.new(v, wave.inputs["Vector"])
        sharp = _node(tree, "ShaderNodeMapRange", **{"From Min": 0.0, "From Max": 0.12})
        links.new(wave.outputs["Fac"], sharp.inputs["Value"])
        return _mix(tree, sharp.outputs["Result"], _scaled(color, 0.55), _scaled(color, 1.04))
    if kind == "fabric":
        warp = _node(tree, "ShaderNodeTexWave", Scale=48.0)
        weft = _node(tree, "ShaderNodeTexWave", Scale=48.0)
        warp.bands_direction, weft.bands_direction = "X", "Y"
        links.new(v, warp.inputs["Vector"])
        links.new(v, weft.inputs["Vector"])
        weave = tree.nodes.new("ShaderNodeMath")
        weave.operation = "MULTIPLY"
        links.new(warp.outputs["Fac"], weave.inputs[0])
        links.new(weft.outputs["Fac"], weave.inputs[1])
        return _mix(tree, weave.outputs[0], _scaled(color, 0.8), _scaled(color, 1.1))
    if kind == "brushed_metal":
        noise = _node(tree, "ShaderNodeTexNoise", Scale=6.0, Detail=4.0)
        links.new(_stretch(tree, v, (1.0, 40.0, 40.0)), noise.inputs["Vector"])
        return _mix(tree, noise.outputs["Fac"], _scaled(color, 0.88), _scaled(color, 1.1))
    if kind == "gravel":
        cells = _node(tree, "ShaderNodeTexVoronoi", Scale=12.0)
        links.new(v, cells.inputs["Vector"])
        grey = tree.nodes.new("ShaderNodeRGBToBW")
        links.new(cells.outputs["Color"], grey.inputs["Color"])
        return _mix(tree, grey.outputs["Val"], _scaled(color, 0.55), _scaled(color, 1.3))
    # plaster, plastic, paper, grass: mottling of different scale and depth
    scale, depth = {"plaster": (4.0, 0.08), "plastic": (30.0, 0.02), "paper": (40.0, 0.05), "grass": (3.0, 0.35)}[kind]
    noise = _node(tree, "ShaderNodeTexNoise", Scale=scale, Detail=8.0)
    links.new(v, noise.inputs["Vector"])
    return _mix(tree, noise.outputs["Fac"], _scaled(color, 1.0 - depth), _scaled(color, 1.0 + depth))


def apply(mat, kind: str, variant: int, color, scale_m: float) -> None:
    """Turn ``mat`` (a Principled material) into the procedural material ``kind``."""
    finish = textures.FINISHES[kind]
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = finish.roughness
    bsdf.inputs["Metallic"].default_value = finish.metallic
    if finish.anisotropic:
        bsdf.inputs["Anisotropic"].default_value = finish.anisotropic
    if kind == "plastic":
        bsdf.inputs["Coat Weight"].default_value = 0.3
        bsdf.inputs["Coat Roughness"].default_value = 0.08
    coord = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    s = 1.0 / max(float(scale_m), 1e-3)
    mapping.inputs["Scale"].default_value = (s, s, s)
    v = int(variant) % textures.VARIANTS
    mapping.inputs["Location"].default_value = (13.7 * v, 7.3 * v, 3.1 * v)
    tree.links.new(coord.outputs["Object"], mapping.inputs["Vector"])
    tree.links.new(_pattern(tree, kind, mapping.outputs["Vector"], color), bsdf.inputs["Base Color"])
