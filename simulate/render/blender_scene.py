"""Build a :class:`~simulate.scene.SceneSpec` in Blender and pose it frame by frame.

Runs inside the Blender worker process only; ``bpy`` is handed in by
:mod:`simulate.render.blender_worker` (the one module that imports it). The scene holds two
looks of the same geometry, switched per render:

* **beauty**: Principled BSDF materials from the spec (colour, roughness, metallic, plus a
  small per-material touch), a procedural floor (checker / noise / plain), a gradient sky
  world that lights the scene (HDRI-free) and a sun lamp whose angular size gives soft
  shadows; in the footage look, procedural PBR materials (:mod:`simulate.render.blender_materials`)
  on textured surfaces and Blender's physical sky where the camera sees the sky;
* **signature**: every surface replaced by one material whose channels code sun shading,
  object id and position on the object; a black world and the same sun; rendered
  direct-only (see the worker for why).

Geometry follows ``simulate.meshes`` conventions: box half extents, sphere radius, cylinder
radius and full height along body z, OBJ meshes from pybullet_data read without axis
conversion, scaled and shifted by ``mesh_offset``. Poses are ``[x, y, z, qx, qy, qz, qw]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulate import meshes, textures
from simulate.render import blender_materials as materials
from simulate.render import blender_optics, cycles_lights
from simulate.scene import SceneSpec, camera_at, look_at_matrix

# Sun irradiance (W/m^2 in Blender's units) for LightSpec.sun_intensity == 1: a white
# diffuse surface facing it renders at about 0.95 under the Standard view transform.
SUN_W_M2 = 3.0
# Sky light strength for LightSpec.ambient == 1.
SKY_STRENGTH = 1.6
# The physical sky the camera sees in the footage look: Nishita's radiance is in physical
# units; at this strength a 40-degree sun's sky reads mid-blue under the Standard transform
# (measured with a 64x32 render of the sky alone).
NISHITA_STRENGTH = 0.08
SPHERE_SEGMENTS = (48, 24)
CYLINDER_SEGMENTS = 48
MESH_SMOOTH_ANGLE_DEG = 35.0
# Object property read by the signature material: 1 where the beauty material varies over
# the surface (wood grain, floor patterns), 0 for plain colours.
TEXTURED_PROP = "void_textured"
# Object property read by the signature material: 1 on a planar mirror (SceneSpec.mirrors),
# whose signature then shows a sharp reflection of the others' signatures.
MIRROR_PROP = "void_mirror"


@dataclass
class BlenderScene:
    scene: Any  # bpy.types.Scene
    objects: dict[int, Any]  # spec id -> bpy object
    anchors: dict[int, Any]  # spec id -> its instance anchor (see _instance_anchor)
    order: list[int]  # spec ids in SceneSpec.objects order (pose rows)
    camera: Any
    sun: Any
    beauty_world: Any
    signature_world: Any
    signature_material: Any
    warnings: list[str] = field(default_factory=list)
    camera_key: tuple | None = None  # what set_camera last wrote
    lamps: list[tuple[Any, int]] = field(default_factory=list)  # (bpy light object, carrier id or 0)
    lamps_on: bool = True  # beauty: lamps light the scene; signature: they are an analytic channel
    fills: list = field(default_factory=list)  # the footage look's shadowless practical lights (cycles_lights)
    motion_keys: dict = field(default_factory=dict)  # spec id (0: camera) -> what set_motion keyed


# ----------------------------------------------------------------------------- nodes


def _node(tree, kind: str, **inputs):
    node = tree.nodes.new(kind)
    for name, value in inputs.items():
        node.inputs[name].default_value = value
    return node


def _principled(bpy, name: str, obj_spec) -> Any:
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    rgba = (*[float(c) for c in obj_spec.color[:3]], 1.0)
    bsdf.inputs["Base Color"].default_value = rgba
    bsdf.inputs["Roughness"].default_value = float(obj_spec.roughness)
    bsdf.inputs["Metallic"].default_value = float(obj_spec.metallic)
    if obj_spec.material == "plastic":
        # A thin clear coat: the sharp highlight over a softer base that reads as plastic.
        bsdf.inputs["Coat Weight"].default_value = 0.3
        bsdf.inputs["Coat Roughness"].default_value = 0.08
    elif obj_spec.material == "rubber":
        bsdf.inputs["Specular IOR Level"].default_value = 0.25
    elif obj_spec.material == "wood":
        # Grain: a stretched noise darkening the base colour by up to a quarter.
        coord = tree.nodes.new("ShaderNodeTexCoord")
        mapping = _node(tree, "ShaderNodeMapping")
        mapping.inputs["Scale"].default_value = (1.0, 1.0, 12.0)
        noise = _node(tree, "ShaderNodeTexNoise", Scale=6.0, Detail=4.0)
        ramp = _node(tree, "ShaderNodeMix", Factor=0.5)
        ramp.data_type = "RGBA"
        ramp.inputs["A"].default_value = rgba
        ramp.inputs["B"].default_value = (rgba[0] * 0.72, rgba[1] * 0.72, rgba[2] * 0.72, 1.0)
        tree.links.new(coord.outputs["Object"], mapping.inputs["Vector"])
        tree.links.new(mapping.outputs["Vector"], noise.inputs["Vector"])
        tree.links.new(noise.outputs["Fac"], ramp.inputs["Factor"])
        tree.links.new(ramp.outputs["Result"], bsdf.inputs["Base Color"])
    return mat


def _floor_material(bpy, floor) -> Any:
    mat = bpy.data.materials.new("floor")
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = float(floor.roughness)
    if floor.pattern in textures.FINISHES:  # the footage look: a procedural PBR floor
        materials.apply(mat, floor.pattern, floor.texture_variant, floor.color, floor.tile_m)
        return mat
    c1 = (*[float(c) for c in floor.color[:3]], 1.0)
    c2 = (*[float(c) for c in floor.color2[:3]], 1.0)
    if floor.pattern == "plain":
        bsdf.inputs["Base Color"].default_value = c1
        return mat
    coord = tree.nodes.new("ShaderNodeTexCoord")
    mix = _node(tree, "ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = c1
    mix.inputs["B"].default_value = c2
    tile = max(float(floor.tile_m), 1e-3)
    if floor.pattern == "checker":
        # Squares of tile_m metres aligned with the world axes: parity of floor(x/t)+floor(y/t).
        # Built from math nodes so the pattern is exact in metres (Blender's checker node
        # also folds z in, which flickers on a plane at z = 0).
        sep = tree.nodes.new("ShaderNodeSeparateXYZ")
        tree.links.new(coord.outputs["Object"], sep.inputs["Vector"])
        parts = []
        for axis in ("X", "Y"):
            div = _node(tree, "ShaderNodeMath")
            div.operation = "DIVIDE"
            div.inputs[1].default_value = tile
            tree.links.new(sep.outputs[axis], div.inputs[0])
            flo = tree.nodes.new("ShaderNodeMath")
            flo.operation = "FLOOR"
            tree.links.new(div.outputs[0], flo.inputs[0])
            parts.append(flo)
        add = tree.nodes.new("ShaderNodeMath")
        add.operation = "ADD"
        tree.links.new(parts[0].outputs[0], add.inputs[0])
        tree.links.new(parts[1].outputs[0], add.inputs[1])
        mod = tree.nodes.new("ShaderNodeMath")
        mod.operation = "FLOORED_MODULO"
        mod.inputs[1].default_value = 2.0
        tree.links.new(add.outputs[0], mod.inputs[0])
        tree.links.new(mod.outputs[0], mix.inputs["Factor"])
    else:  # noise
        noise = _node(tree, "ShaderNodeTexNoise", Scale=1.0 / tile, Detail=3.0)
        tree.links.new(coord.outputs["Object"], noise.inputs["Vector"])
        tree.links.new(noise.outputs["Fac"], mix.inputs["Factor"])
    tree.links.new(mix.outputs["Result"], bsdf.inputs["Base Color"])
    return mat


def _signature_material(bpy, mirrors: bool = False) -> Any:
    """The signature look: three channels that each change for their own reason.

    R: a red-only diffuse lit by the sun (shading and sun shadow); G: emission coding the
    object id; B: emission coding the hit point in the object's own frame, for textured
    surfaces only (object property ``TEXTURED_PROP``), so a textured object that moves or
    turns changes its pixels while a plain face sliding along itself, which looks the same,
    does not. Emission is not sampled as a light (``emission_sampling = NONE``), so surfaces
    never light each other.
    """
    mat = bpy.data.materials.new("signature")
    mat.use_nodes = True
    mat.cycles.emission_sampling = "NONE"
    tree = mat.node_tree
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    diffuse = _node(tree, "ShaderNodeBsdfDiffuse", Color=(1.0, 0.0, 0.0, 1.0))
    emission = _node(tree, "ShaderNodeEmission", Strength=1.0)
    add = tree.nodes.new("ShaderNodeAddShader")
    info = tree.nodes.new("ShaderNodeObjectInfo")
    coord = tree.nodes.new("ShaderNodeTexCoord")
    combine = tree.nodes.new("ShaderNodeCombineColor")
    combine.inputs["Red"].default_value = 0.0

    def code(value_socket, channel: str) -> None:
        # 0.25 + 0.75 * fract(value): distinct, bounded, never black.
        frac = tree.nodes.new("ShaderNodeMath")
        frac.operation = "FRACT"
        scale = _node(tree, "ShaderNodeMath")
        scale.operation = "MULTIPLY_ADD"
        scale.inputs[1].default_value = 0.75
        scale.inputs[2].default_value = 0.25
        tree.links.new(value_socket, frac.inputs[0])
        tree.links.new(frac.outputs[0], scale.inputs[0])
        tree.links.new(scale.outputs[0], combine.inputs[channel])

    golden = _node(tree, "ShaderNodeMath")
    golden.operation = "MULTIPLY"
    golden.inputs[1].default_value = 0.6180339887
    tree.links.new(info.outputs["Object Index"], golden.inputs[0])
    code(golden.outputs[0], "Green")
    dot = _node(tree, "ShaderNodeVectorMath")
    dot.operation = "DOT_PRODUCT"
    dot.inputs[1].default_value = (0.37, 0.61, 0.83)
    tree.links.new(coord.outputs["Object"], dot.inputs[0])
    textured = tree.nodes.new("ShaderNodeAttribute")
    textured.attribute_type = "OBJECT"
    textured.attribute_name = TEXTURED_PROP
    gate = tree.nodes.new("ShaderNodeMath")
    gate.operation = "MULTIPLY"
    tree.links.new(dot.outputs["Value"], gate.inputs[0])
    tree.links.new(textured.outputs["Fac"], gate.inputs[1])
    code(gate.outputs[0], "Blue")
    tree.links.new(combine.outputs["Color"], emission.inputs["Color"])
    tree.links.new(diffuse.outputs["BSDF"], add.inputs[0])
    tree.links.new(emission.outputs["Emission"], add.inputs[1])
    if not mirrors:
        tree.links.new(add.outputs["Shader"], out.inputs["Surface"])
        return mat
    # On a planar mirror (MIRROR_PROP 1) half its own code, half a sharp reflection: a
    # delta bounce, so still noise-free, and it changes exactly where the reflection does.
    is_mirror = tree.nodes.new("ShaderNodeAttribute")
    is_mirror.attribute_type = "OBJECT"
    is_mirror.attribute_name = MIRROR_PROP
    half = _node(tree, "ShaderNodeMath")
    half.operation = "MULTIPLY"
    half.inputs[1].default_value = 0.5
    tree.links.new(is_mirror.outputs["Fac"], half.inputs[0])
    glossy = _node(tree, "ShaderNodeBsdfGlossy", Color=(1.0, 1.0, 1.0, 1.0), Roughness=0.0)
    mix = tree.nodes.new("ShaderNodeMixShader")
    tree.links.new(half.outputs[0], mix.inputs["Fac"])
    tree.links.new(add.outputs["Shader"], mix.inputs[1])
    tree.links.new(glossy.outputs["BSDF"], mix.inputs[2])
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    return mat


def _beauty_world(bpy, scene: SceneSpec) -> Any:
    """Gradient sky: the spec's background at the zenith, paler at the horizon.

    Camera rays see it at strength 1 (so the backdrop shows the spec's colour); all other
    rays get ``ambient * SKY_STRENGTH``, which is the scene's sky light.
    """
    world = bpy.data.worlds.new("sky")
    world.use_nodes = True
    # No light-sampling map for the sky: building it costs more than a whole small render
    # (and is redone whenever the world is re-synced), and a smooth gradient is sampled
    # about as well by the surfaces' own BSDF sampling.
    world.cycles.sampling_method = "NONE"
    tree = world.node_tree
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputWorld")
    coord = tree.nodes.new("ShaderNodeTexCoord")
    sep = tree.nodes.new("ShaderNodeSeparateXYZ")
    to01 = _node(tree, "ShaderNodeMapRange")
    to01.inputs["From Min"].default_value = -1.0
    ramp = tree.nodes.new("ShaderNodeValToRGB")
    bg = np.asarray(scene.background[:3], dtype=float)
    horizon = 0.55 * bg + 0.45 * np.array([0.92, 0.92, 0.9])
    ground = 0.4 * bg
    els = ramp.color_ramp.elements
    els[0].position, els[0].color = 0.0, (*ground, 1.0)
    els[1].position, els[1].color = 1.0, (*bg, 1.0)
    els.new(0.5).color = (*horizon, 1.0)
    els.new(0.49).color = (*(0.5 * horizon + 0.5 * ground), 1.0)
    light_bg = _node(tree, "ShaderNodeBackground", Strength=float(scene.light.ambient) * SKY_STRENGTH)
    camera_bg = _node(tree, "ShaderNodeBackground", Strength=1.0)
    path = tree.nodes.new("ShaderNodeLightPath")
    mix = tree.nodes.new("ShaderNodeMixShader")
    tree.links.new(coord.outputs["Generated"], sep.inputs["Vector"])
    tree.links.new(sep.outputs["Z"], to01.inputs["Value"])
    tree.links.new(to01.outputs["Result"], ramp.inputs["Fac"])
    tree.links.new(ramp.outputs["Color"], light_bg.inputs["Color"])
    if "environment" in scene.extras:
        # the footage look: what the camera sees of the sky (through a window, above a yard)
        # is Blender's physical sky (Nishita) for the scene's sun; the light the sky casts
        # stays the calibrated gradient of the plain look
        sky = tree.nodes.new("ShaderNodeTexSky")
        sky.sky_type, sky.sun_disc = "NISHITA", False
        to_sun = -np.asarray(scene.light.sun_direction, float)
        to_sun = to_sun / np.linalg.norm(to_sun)
        sky.sun_elevation = float(math.asin(np.clip(to_sun[2], -1.0, 1.0)))
        sky.sun_rotation = float(math.atan2(to_sun[0], to_sun[1]))
        camera_bg.inputs["Strength"].default_value = NISHITA_STRENGTH
        tree.links.new(sky.outputs["Color"], camera_bg.inputs["Color"])
    else:
        tree.links.new(ramp.outputs["Color"], camera_bg.inputs["Color"])
    tree.links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
    tree.links.new(light_bg.outputs["Background"], mix.inputs[1])
    tree.links.new(camera_bg.outputs["Background"], mix.inputs[2])
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])
    return world


def _black_world(bpy) -> Any:
    world = bpy.data.worlds.new("black")
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    bg.inputs["Strength"].default_value = 0.0
    return world


# --------------------------------------------------------------------------- geometry


def _mesh_object(bpy, bmesh, name: str, obj_spec, warnings: list[str]) -> Any:
    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    if obj_spec.shape == "box":
        bmesh.ops.create_cube(bm, size=2.0)
        half = [float(v) for v in obj_spec.size]
        for v in bm.verts:
            v.co.x, v.co.y, v.co.z = v.co.x * half[0], v.co.y * half[1], v.co.z * half[2]
        smooth = None
    elif obj_spec.shape == "sphere":
        u, v = SPHERE_SEGMENTS
        bmesh.ops.create_uvsphere(bm, u_segments=u, v_segments=v, radius=float(obj_spec.size[0]))
        smooth = "all"
    elif obj_spec.shape == "cylinder":
        r, h = float(obj_spec.size[0]), float(obj_spec.size[1])
        bmesh.ops.create_cone(bm, cap_ends=True, segments=CYLINDER_SEGMENTS, radius1=r, radius2=r, depth=h)
        smooth = "sides"
    elif obj_spec.shape == "mesh":
        _import_obj(bpy, bm, obj_spec, warnings)
        smooth = "angle"
    else:
        raise ValueError(f"object {obj_spec.id}: unknown shape {obj_spec.shape!r}")
    bm.to_mesh(mesh)
    bm.free()
    if smooth == "all":
        mesh.shade_smooth()
    elif smooth == "sides":
        for poly in mesh.polygons:
            poly.use_smooth = abs(poly.normal.z) < 0.5
    elif smooth == "angle":
        mesh.shade_smooth()
        mesh.set_sharp_from_angle(angle=math.radians(MESH_SMOOTH_ANGLE_DEG))
    obj = bpy.data.objects.new(name, mesh)
    obj.rotation_mode = "QUATERNION"
    return obj


def _import_obj(bpy, bm, obj_spec, warnings: list[str]) -> None:
    """OBJ from pybullet_data into ``bm``: file axes kept, ``scale * v + mesh_offset``."""
    import mathutils

    path = meshes.data_dir() / obj_spec.mesh
    if not path.is_file():
        raise FileNotFoundError(f"object {obj_spec.id}: mesh {path} not found")
    before = set(bpy.data.objects)
    # Axes as stored (pybullet reads OBJ vertices without conversion); Blender's default
    # would turn Y-up files into Z-up.
    bpy.ops.wm.obj_import(filepath=str(path), forward_axis="Y", up_axis="Z")
    imported = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
    if not imported:
        raise ValueError(f"object {obj_spec.id}: {path} imported no mesh")
    scale = float(obj_spec.size[0])
    offset = mathutils.Vector([float(v) for v in obj_spec.mesh_offset])
    fix = mathutils.Matrix.Translation(offset) @ mathutils.Matrix.Scale(scale, 4)
    for o in imported:
        tmp = o.data.copy()
        tmp.transform(fix @ o.matrix_world)
        bm.from_mesh(tmp)
        bpy.data.meshes.remove(tmp)
        data = o.data
        bpy.data.objects.remove(o)
        if data.users == 0:
            bpy.data.meshes.remove(data)
    if len(imported) > 1:
        warnings.append(f"{obj_spec.mesh}: {len(imported)} OBJ groups joined")


def _instance_anchor(bpy, obj, root) -> Any:
    """A second, never-seen user of ``obj``'s mesh, so Cycles keeps the mesh in object space.

    Blender renders in the background with Cycles' static BVH, which bakes the transform of
    every single-user mesh into its vertices. Moving such an object then re-exports its mesh
    and rebuilds the BVH: about 8 CPU-ms per render call (measured, 256x256 scene), which
    dominates the small border renders, since every frame moves something. A mesh with two
    users is instanced instead, and a move only updates a transform (about 2.5 ms a call).
    The anchor is tiny, a metre below the floor and visible to volume-scatter rays only, and the
    scenes hold no volumes, so no ray can ever meet it; it is shown and hidden with its object.
    Pixels differ from a transform-baked render by float rounding only (object-space hits).
    """
    anchor = bpy.data.objects.new(f"{obj.name}_anchor", obj.data)
    anchor.location = (0.0, 0.0, -1.0)
    anchor.scale = (1e-3, 1e-3, 1e-3)
    for flag in ("visible_camera", "visible_diffuse", "visible_glossy", "visible_transmission", "visible_shadow"):
        setattr(anchor, flag, False)
    anchor.visible_volume_scatter = True  # one ray type left on, or Cycles drops the object
    root.objects.link(anchor)
    return anchor


def _floor(bpy, floor) -> Any:
    he = float(floor.half_extent_m)
    mesh = bpy.data.meshes.new("floor")
    mesh.from_pydata([(-he, -he, 0.0), (he, -he, 0.0), (he, he, 0.0), (-he, he, 0.0)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("floor", mesh)
    obj.pass_index = 0
    return obj


# ------------------------------------------------------------------------------ build


def build(bpy, scene: SceneSpec) -> BlenderScene:
    """A fresh Blender scene for ``scene`` (factory settings, nothing from a startup file)."""
    import bmesh
    import mathutils

    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    root = sc.collection
    warnings: list[str] = []

    floor = _floor(bpy, scene.floor)
    floor.data.materials.append(_floor_material(bpy, scene.floor))
    floor[TEXTURED_PROP] = 0.0 if scene.floor.pattern == "plain" else 1.0
    mirrors = {m.object_id: m for m in scene.mirrors}
    floor[MIRROR_PROP] = 1.0 if 0 in mirrors else 0.0
    if 0 in mirrors:  # a polished floor: a sharp clear coat over its pattern
        bsdf = floor.data.materials[0].node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Coat Weight"].default_value = 1.0
        bsdf.inputs["Coat Roughness"].default_value = 0.0
    root.objects.link(floor)

    objects, anchors, order = {}, {}, []
    for spec in scene.objects:
        obj = _mesh_object(bpy, bmesh, f"obj{spec.id}", spec, warnings)
        material = _principled(bpy, f"mat{spec.id}", spec)
        pbr = spec.texture in textures.FINISHES and spec.transmission <= 0 and spec.id not in mirrors
        if pbr:  # the footage look: procedural PBR in place of the plain material
            materials.apply(material, spec.texture, spec.texture_variant, spec.color, textures.repeat_m(spec))
        blender_optics.finish(bpy, material, spec, mirrors.get(spec.id))
        obj.data.materials.append(material)
        obj.pass_index = int(spec.id)
        obj[TEXTURED_PROP] = 1.0 if spec.material == "wood" or pbr else 0.0
        obj[MIRROR_PROP] = 1.0 if spec.id in mirrors else 0.0
        root.objects.link(obj)
        objects[spec.id] = obj
        anchors[spec.id] = _instance_anchor(bpy, obj, root)
        order.append(spec.id)

    sun_data = bpy.data.lights.new("sun", type="SUN")
    sun_data.energy = SUN_W_M2 * float(scene.light.sun_intensity)
    sun_data.color = tuple(float(c) for c in scene.light.sun_color[:3])
    sun_data.angle = math.radians(max(float(scene.light.softness_deg), 0.0))
    sun = bpy.data.objects.new("sun", sun_data)
    # A sun lamp shines along its local -Z; LightSpec gives the direction light travels.
    sun.rotation_mode = "QUATERNION"
    sun.rotation_quaternion = mathutils.Vector(scene.light.sun_direction).normalized().to_track_quat("-Z", "Y")
    root.objects.link(sun)

    lamps = []
    for lamp in scene.lamps:
        obj = blender_optics.make_lamp(bpy, mathutils, lamp)
        if lamp.attached_to:  # carried: it follows its object's pose (body-frame position)
            obj.parent = objects[lamp.attached_to]
            # the lamp sits inside its carrier (a bulb): shadow linking keeps the carrier from
            # blocking it, while it still casts its sun shadow (the rasterizer does the same)
            blockers = bpy.data.collections.new("lamp_blockers")
            for oid, other in objects.items():
                if oid != lamp.attached_to:
                    blockers.objects.link(other)
            blockers.objects.link(floor)
            obj.light_linking.blocker_collection = blockers
        root.objects.link(obj)
        lamps.append((obj, int(lamp.attached_to)))

    fills = [_fill_light(bpy, mathutils, spec, root) for spec in cycles_lights.footage_lights(scene, SUN_W_M2)]

    cam_data = bpy.data.cameras.new("camera")
    # Vertical fit: the spec's fov is vertical, whatever the aspect ratio.
    cam_data.sensor_fit = "VERTICAL"
    cam_data.sensor_height = 24.0
    cam_data.clip_start = float(scene.camera.near_m)
    cam_data.clip_end = float(scene.camera.far_m)
    camera = bpy.data.objects.new("camera", cam_data)
    root.objects.link(camera)
    sc.camera = camera

    return BlenderScene(
        scene=sc,
        objects=objects,
        anchors=anchors,
        order=order,
        camera=camera,
        sun=sun,
        beauty_world=_beauty_world(bpy, scene),
        signature_world=_black_world(bpy),
        signature_material=_signature_material(bpy, mirrors=bool(scene.mirrors)),
        warnings=warnings,
        lamps=lamps,
        fills=fills,
    )


def _fill_light(bpy, mathutils, spec: dict, root) -> Any:
    """One of :func:`simulate.render.cycles_lights.footage_lights`: shadowless, and seen by the
    camera only through the window it fills."""
    area = spec["kind"] == "area"
    data = bpy.data.lights.new(f"fill_{spec['role']}", type="AREA" if area else "POINT")
    data.energy = float(spec["power_w"])
    data.color = tuple(float(c) for c in spec["color"][:3])
    data.use_shadow = False
    if area:
        data.shape = "RECTANGLE"
        data.size, data.size_y = (float(v) for v in spec["size_m"][:2])
    else:
        data.shadow_soft_size = float(spec["size_m"][0])
    obj = bpy.data.objects.new(f"fill_{spec['role']}", data)
    obj.location = tuple(float(v) for v in spec["position"])
    obj.rotation_mode = "QUATERNION"
    obj.rotation_quaternion = mathutils.Vector(spec["direction"]).normalized().to_track_quat("-Z", "Y")
    obj.visible_camera = spec["role"] == "window"
    root.objects.link(obj)
    return obj


def lens_mm(sensor_height_mm: float, fov_deg: float) -> float:
    """Blender's focal length for a vertical field of view on a sensor of that height."""
    return sensor_height_mm / (2.0 * math.tan(math.radians(fov_deg) / 2.0))


def set_camera(bs: BlenderScene, scene: SceneSpec, frame: int) -> None:
    """Camera at ``frame`` from :func:`simulate.scene.camera_at`, as every renderer does."""
    import mathutils

    eye, target, up, fov_deg = camera_at(scene.camera, frame, scene.num_frames)
    cam_to_world = np.linalg.inv(look_at_matrix(eye, target, up))
    data = bs.camera.data
    lens = lens_mm(data.sensor_height, fov_deg)
    # Written only when it changes (see set_poses). matrix_world reads back recomposed from
    # location/rotation/scale, not bit-equal to what was set, so compare with the last write.
    key = (cam_to_world.tobytes(), lens)
    if bs.camera_key != key:
        bs.camera.matrix_world = mathutils.Matrix(cam_to_world.tolist())
        data.lens = lens
        bs.camera_key = key


def set_poses(bs: BlenderScene, poses: np.ndarray, hidden_ids: set[int]) -> None:
    """Place every object at its ``(N, 7)`` pose; NaN rows and ``hidden_ids`` vanish entirely.

    ``hide_render`` removes an object from every ray (no pixels, no shadow, no bounce light),
    which is what both the hidden and the removed view need.
    """
    for row, object_id in enumerate(bs.order):
        obj = bs.objects[object_id]
        pose = poses[row]
        gone = object_id in hidden_ids or not np.isfinite(pose).all()
        if obj.hide_render != gone:
            obj.hide_render = gone
            bs.anchors[object_id].hide_render = gone
        if gone:
            continue
        # Blender stores float32: compare in it, or a double never equals what was stored.
        location = tuple(float(v) for v in pose[:3].astype(np.float32))
        x, y, z, w = (float(v) for v in pose[3:7].astype(np.float32))
        # Only what changed is written: any write tags the object for a re-sync, which makes
        # Cycles rebuild its BVH before the next render even when the value is the same.
        if tuple(obj.location) != location:
            obj.location = location
        if tuple(obj.rotation_quaternion) != (w, x, y, z):
            obj.rotation_quaternion = (w, x, y, z)
    set_lamps(bs, bs.lamps_on)


def set_lamps(bs: BlenderScene, on: bool) -> None:
    """Lamps shine when ``on`` and their carrier (if any) is in the picture."""
    bs.lamps_on = on
    for obj in bs.fills:
        if obj.hide_render == on:
            obj.hide_render = not on
    for obj, carrier in bs.lamps:
        gone = not on or (carrier and bs.objects[carrier].hide_render)
        if obj.hide_render != gone:
            obj.hide_render = gone
