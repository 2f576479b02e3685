"""Optics of the Cycles scene (the optics families): emission, glass, mirror finishes and
point/spot lamps whose light ends at their range.

Runs inside the Blender worker process only, called by :mod:`simulate.render.blender_scene`
(``bpy`` is handed in).
"""

from __future__ import annotations

import math
from typing import Any

from simulate.render import blender_scene as scene_nodes  # imports this module: attributes at call time

# Point/spot lamp power (W) for LampSpec.power == 1: about the irradiance of a sun of
# intensity 1 at 1 m (a point light of P watts gives P / (4 pi r^2) W/m^2), matched by eye
# against the rasterizer's lamp pool (a brighter pool saturates and fills the floor with
# bounce fireflies).
LAMP_W_PER_SUN = 4.0 * math.pi  # times blender_scene.SUN_W_M2
EMISSION_STRENGTH = 4.0  # ObjectSpec.emission == 1: a clearly glowing surface


def finish(bpy, mat, obj_spec, mirror) -> None:
    """Emission, transmission and mirror finish of a Principled material (the optics families).

    Glass lets shadow rays through tinted by its colour (Cycles' glass is otherwise opaque to
    shadow rays with caustics off), so its shadow is tinted as in the rasterizer; with
    :func:`shadow_caustics` on (the default) that is the fallback where no refracted path is
    found."""
    from simulate.render.raster_optics import glass_filter  # pure numpy: the filter both renderers use

    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    if obj_spec.emission > 0:
        bsdf.inputs["Emission Color"].default_value = (*[float(c) for c in obj_spec.color[:3]], 1.0)
        # The glow is for the camera only: its light is the lamp's (which has a range). Seen by
        # bounce rays it would light the floor everywhere, in fireflies (it is not sampled as
        # a light).
        camera_only = tree.nodes.new("ShaderNodeMath")
        camera_only.operation = "MULTIPLY"
        camera_only.inputs[1].default_value = EMISSION_STRENGTH * float(obj_spec.emission)
        tree.links.new(tree.nodes.new("ShaderNodeLightPath").outputs["Is Camera Ray"], camera_only.inputs[0])
        tree.links.new(camera_only.outputs[0], bsdf.inputs["Emission Strength"])
        mat.cycles.emission_sampling = "NONE"
    if mirror is not None:
        bsdf.inputs["Roughness"].default_value = 0.0
        if mirror.kind == "mirror":
            bsdf.inputs["Metallic"].default_value = 1.0
            bsdf.inputs["Base Color"].default_value = (*[float(c) for c in mirror.tint], 1.0)
    if obj_spec.transmission > 0:
        bsdf.inputs["Transmission Weight"].default_value = float(obj_spec.transmission)
        bsdf.inputs["IOR"].default_value = 1.45
        out = tree.nodes["Material Output"]
        path = tree.nodes.new("ShaderNodeLightPath")
        clear = scene_nodes._node(tree, "ShaderNodeBsdfTransparent", Color=(*glass_filter(obj_spec), 1.0))
        mix = tree.nodes.new("ShaderNodeMixShader")
        tree.links.new(path.outputs["Is Shadow Ray"], mix.inputs["Fac"])
        tree.links.new(bsdf.outputs["BSDF"], mix.inputs[1])
        tree.links.new(clear.outputs["BSDF"], mix.inputs[2])
        tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])


def make_lamp(bpy, mathutils, lamp) -> Any:
    """A point or spot light whose light ends at ``range_m``: its strength is multiplied by
    ``clamp(1 - (d / range)^4)^2`` of the distance d (Light Path's ray length, which in a light
    shader is the distance to the lit point), the window the rasterizer uses too."""
    data = bpy.data.lights.new("lamp", type="SPOT" if lamp.kind == "spot" else "POINT")
    data.energy = scene_nodes.SUN_W_M2 * LAMP_W_PER_SUN * float(lamp.power)
    data.color = tuple(float(c) for c in lamp.color[:3])
    data.shadow_soft_size = float(lamp.radius_m)
    if lamp.kind == "spot":
        data.spot_size = math.radians(float(lamp.cone_deg))
        data.spot_blend = float(lamp.blend)
    data.use_nodes = True
    tree = data.node_tree
    emission = next(n for n in tree.nodes if n.type == "EMISSION")
    path = tree.nodes.new("ShaderNodeLightPath")
    ops = [("DIVIDE", float(lamp.range_m)), ("POWER", 4.0), ("SUBTRACT", None), ("POWER", 2.0)]
    socket = path.outputs["Ray Length"]
    for op, value in ops:
        node = tree.nodes.new("ShaderNodeMath")
        node.operation = op
        if op == "SUBTRACT":  # 1 - x, clamped to [0, 1]
            node.inputs[0].default_value = 1.0
            tree.links.new(socket, node.inputs[1])
            node.use_clamp = True
        else:
            tree.links.new(socket, node.inputs[0])
            node.inputs[1].default_value = value
        socket = node.outputs[0]
    tree.links.new(socket, emission.inputs["Strength"])
    obj = bpy.data.objects.new("lamp", data)
    obj.location = tuple(float(v) for v in lamp.position)
    obj.rotation_mode = "QUATERNION"
    # a spot shines along its local -Z
    obj.rotation_quaternion = mathutils.Vector(lamp.direction).normalized().to_track_quat("-Z", "Y")
    return obj


def shadow_caustics(bpy, bs, spec, on: bool) -> bool:
    """Light the glass bends onto surfaces: refractive shadow caustics of the scene's
    transmissive objects (Cycles' manifold next event estimation, MNEE), for the sun and lamps.

    Casters are the objects with ``transmission`` > 0, receivers the floor and every other
    object. For a receiver point Cycles sends a probe ray towards a sampled point of the light;
    only where it meets a caster does it solve for the refracted path through the glass (a
    ball focuses the sun into a spot, a jar's side into a line) and use that in place of the
    straight shadow ray. Where no path is found (the solver needs smooth shading, so flat faces
    such as a block's or a jar's lid never bend light) the shadow ray passes straight through,
    tinted (:func:`finish`). So bent light lands only where the glass shades a surface: inside
    its shadow volume, which the change regions already hold (the signature pass sees glass as
    opaque, so that whole shadow is marked and re-rendered). The refractive-caustics switch
    MNEE needs also lets bounce rays refract through glass to the sky (indirect light, like any
    other bounce light). Returns whether anything was switched on: nothing is where the scene
    has no glass or ``on`` is False."""
    glass = {o.id for o in spec.objects if o.transmission > 0}
    if not glass or not on:
        return False
    for oid, obj in bs.objects.items():
        obj.cycles.is_caustics_caster = oid in glass
        obj.cycles.is_caustics_receiver = oid not in glass
    bpy.data.objects["floor"].cycles.is_caustics_receiver = True
    for light in [bs.sun, *(obj for obj, _ in bs.lamps)]:
        light.data.cycles.is_caustics_light = True
    bs.scene.cycles.caustics_refractive = True  # MNEE runs only with it on
    return True
