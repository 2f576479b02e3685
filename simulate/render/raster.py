"""The fast renderer: OpenGL rasterization with moderngl over EGL (Mesa llvmpipe on a CPU).

One GL context per process renders the three views of a sample: a shadow-map pass from the
sun, then one pass that writes colour, the exact object id and linear depth at once. Shading
is Lambert diffuse + ambient + a little Blinn-Phong specular, on a procedural floor (checker,
plain or value noise). No anti-aliasing: every pixel belongs to exactly one object, so the
id pass and the colour agree and the quadmask is exact.

Rasterization is deterministic, so the RGB itself is the signature: two views with the same
ids and RGB at a pixel are the same there, and pixels far from a removed object come out
bit-identical in full and removed renders. Two things keep them identical: objects are
drawn in the same order in every view, and the sun's shadow frustum depends on the scene
and both trajectories, not on which objects a view draws.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from simulate import meshes, textures
from simulate.render import raster_look as look
from simulate.render import raster_optics as optics
from simulate.render import raster_shaders as shaders
from simulate.render.base import Renderer, RenderPasses, Views
from simulate.rotation import quat_matrix
from simulate.scene import SET_ROLES, SceneSpec, camera_at, look_at_matrix, perspective_matrix

_CTX = None  # one EGL context per process, reused by every renderer instance

_PATTERNS = {"checker": 1, "plain": 2, "noise": 3}
_GL_CLIP_DISTANCE0 = 0x3000


def _context():
    global _CTX
    if _CTX is None:
        from void.deps import require

        # llvmpipe rasterizes in helper threads by default; samples already run in parallel
        # worker processes, and single-threaded rendering costs ~10-15% less CPU per frame
        # (measured: benchmarks/simulate_throughput.py). A value set by the user wins.
        os.environ.setdefault("LP_NUM_THREADS", "0")

        moderngl = require("moderngl")
        try:
            _CTX = moderngl.create_standalone_context(backend="egl")
        except Exception as exc:  # no EGL driver: say what is missing, not a GL stack trace
            from void.errors import VoidError

            raise VoidError(
                f"the raster renderer needs an EGL OpenGL 3.3 driver (Mesa llvmpipe works on CPU): {exc}"
            ) from exc
    return _CTX


def model_matrices(poses: np.ndarray) -> np.ndarray:
    """``(..., 7)`` poses -> ``(..., 4, 4)`` float32 model matrices (NaN rows stay NaN)."""
    pos, q = poses[..., :3], poses[..., 3:]
    m = np.zeros(poses.shape[:-1] + (4, 4))
    m[..., :3, :3] = quat_matrix(q)
    m[..., :3, 3] = pos
    m[..., 3, 3] = 1.0
    return m.astype(np.float32)


def _set(prog, name: str, value) -> None:
    # a uniform the GLSL compiler optimised away is simply not there
    member = prog.get(name, None)
    if member is not None:
        member.value = value


def _write(prog, name: str, data: bytes) -> None:
    member = prog.get(name, None)
    if member is not None:
        member.write(data)


def _gl(m: np.ndarray) -> bytes:
    return np.ascontiguousarray(np.asarray(m, dtype=np.float32).T).tobytes()  # GL is column-major


def shadow_frustum(scene: SceneSpec, *pose_sets: np.ndarray) -> np.ndarray:
    """Sun view-projection covering every object position of every given trajectory.

    Computed once per sample from the scene and both simulations, so it is the same in all
    three views (a frustum fitted per view would shift every shadow texel).
    """
    # a dressed set (walls, a room floor metres wide) would spread the map thin: it covers the
    # action and what stands near it, and the set beyond is lit
    cast = np.array([not (look.is_footage(scene) and o.role in SET_ROLES) for o in scene.objects], bool)
    objects = [o for o, c in zip(scene.objects, cast) if c]
    pts = [np.asarray(o.position, float)[None] for o in objects]
    for poses in pose_sets:
        xyz = poses[:, cast, :3].reshape(-1, 3)
        pts.append(xyz[np.isfinite(xyz).all(axis=1)])
    pts.append(np.asarray(scene.camera.look_at, float)[None])
    pts = np.concatenate(pts)
    reach = max((meshes.bounding_radius(o) for o in objects), default=0.2)
    if not cast.all():
        reach += 1.0
    lo, hi = pts.min(0) - reach, pts.max(0) + reach
    lo[2] = min(lo[2], 0.0)
    center = (lo + hi) / 2
    radius = float(np.linalg.norm(hi - lo) / 2) + 0.3
    d = np.asarray(scene.light.sun_direction, float)
    d = d / np.linalg.norm(d)
    up = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    view = look_at_matrix(center - d * radius * 2, center, up)
    near, far = radius * 0.5, radius * 3.5
    ortho = np.diag([1 / radius, 1 / radius, -2 / (far - near), 1.0])
    ortho[2, 3] = -(far + near) / (far - near)
    return ortho @ view


class RasterRenderer(Renderer):
    """moderngl/EGL rasterizer: rgb, ids and depth for full, hidden and removed views."""

    name = "raster"
    _GL_NAMES = ("_fbo", "_fbo_color", "_fbo_id", "_color", "_iddepth", "_zbuf", "_shadow_fbo", "_shadow_tex",
                 "_lamp_tex", "_lamp_fbo", "_glass_tex", "_tint_tex", "_glass_fbo", "_tint_fbo", "_refl_color", "_refl_id",
                 "_refl_z", "_refl_fbo", "_refl_fbo_color", "_refl_fbo_id")

    def __init__(self, shadow_map_size: int | None = None, specular: bool = True, reuse_frames: bool = True):
        self.shadow_map_size = shadow_map_size  # None: scaled with the output size
        self.specular = specular
        self.reuse_frames = reuse_frames  # copy hidden frames that must equal removed ones
        self._ctx = None
        self._size = None

    # ------------------------------------------------------------------ GL objects
    def _setup(self, width: int, height: int, shadow_size: int, n_aux: int = 2) -> None:
        ctx = _context()
        if self._ctx is None:
            self._ctx = ctx
            self._variants = {}
            self._textures = look.TextureCache(ctx)
            self._use_programs((0, 0, 0, 0))
            self._shadow_prog = ctx.program(vertex_shader=shaders.SHADOW_VERT, fragment_shader=shaders.SHADOW_FRAG)
            self._lamp_prog = ctx.program(
                vertex_shader=shaders.LAMP_SHADOW_VERT, fragment_shader=shaders.LAMP_SHADOW_FRAG
            )
            self._tint_prog = ctx.program(vertex_shader=shaders.SHADOW_VERT, fragment_shader=shaders.TINT_FRAG)
        if self._size != (width, height, shadow_size, n_aux):
            for name in self._GL_NAMES:
                obj = getattr(self, name, None)
                if obj is not None:
                    obj.release()
            self._color = ctx.renderbuffer((width, height), 4, dtype="f1")
            # id, depth (and with optics: the mirror's id + lamp-lit, 1); reading back exactly the
            # components stored is llvmpipe's fast path
            self._iddepth = ctx.renderbuffer((width, height), n_aux, dtype="f4")
            self._zbuf = ctx.depth_renderbuffer((width, height))
            self._fbo = ctx.framebuffer([self._color, self._iddepth], self._zbuf)
            # one framebuffer per attachment, only to clear each to its own value (sky colour;
            # id 0 at the far plane): a clear is free, a full-screen sky pass is not
            self._fbo_color = ctx.framebuffer([self._color])
            self._fbo_id = ctx.framebuffer([self._iddepth], self._zbuf)
            self._shadow_tex = self._depth_texture((shadow_size, shadow_size))
            self._shadow_fbo = ctx.framebuffer(depth_attachment=self._shadow_tex)
            # optics: the lamp's distance atlas, the glass depth + tint seen from the sun, and
            # the mirrored render (colour + the ids it shows)
            tile = max(128, shadow_size // 2)
            self._lamp_tile = tile
            self._lamp_tex = self._depth_texture((3 * tile, 2 * tile))
            self._lamp_fbo = ctx.framebuffer(depth_attachment=self._lamp_tex)
            self._glass_tex = self._depth_texture((shadow_size, shadow_size))
            self._tint_tex = ctx.texture((shadow_size, shadow_size), 4, dtype="f1")
            self._tint_tex.repeat_x = self._tint_tex.repeat_y = False
            self._glass_fbo = ctx.framebuffer(depth_attachment=self._glass_tex)
            self._tint_fbo = ctx.framebuffer([self._tint_tex])
            self._refl_color = ctx.texture((width, height), 4, dtype="f1")
            self._refl_id = ctx.texture((width, height), 4, dtype="f4")
            for tex in (self._refl_color, self._refl_id):
                tex.filter = (ctx.NEAREST, ctx.NEAREST)
            self._refl_z = ctx.depth_renderbuffer((width, height))
            self._refl_fbo = ctx.framebuffer([self._refl_color, self._refl_id], self._refl_z)
            self._refl_fbo_color = ctx.framebuffer([self._refl_color])
            self._refl_fbo_id = ctx.framebuffer([self._refl_id], self._refl_z)
            self._size = (width, height, shadow_size, n_aux)

    def _use_programs(self, variant: tuple[int, int, int, int]) -> None:
        """Make the programs of a scene with these optics (lamp, glass, mirror) and look
        (footage) current, compiling them on first use."""
        if variant not in self._variants:
            lamp, glass, mirror, footage = variant
            head = (f"#version 330\n#define LAMP {lamp}\n#define GLASS {glass}\n#define MIRROR {mirror}\n"
                    f"#define FOOTAGE {footage}\n")
            patterns = (0, 1, 2, 3) + ((look.TEXTURED_OBJECT, look.TEXTURED_FLOOR) if footage else ())
            progs = {
                k: self._ctx.program(
                    vertex_shader=head + shaders.VERT, fragment_shader=f"{head}#define PATTERN {k}\n{shaders.FRAG}"
                )
                for k in patterns
            }
            for prog in progs.values():
                for unit, name in enumerate(("u_shadow", "u_lamp_shadow", "u_glass_shadow", "u_glass_tint",
                                             "u_refl_color", "u_refl_id")):
                    _set(prog, name, unit)
                _set(prog, "u_tex", look.TEXTURE_UNIT)
            self._variants[variant] = progs
        self._progs = self._variants[variant]
        self._prog = self._progs[0]
        self._footage = bool(variant[3])

    def _floor_prog(self, floor):
        return self._progs[look.floor_pattern(floor, self._footage, _PATTERNS)]

    def _depth_texture(self, size):
        ctx = self._ctx
        tex = ctx.depth_texture(size)
        tex.compare_func = "<="
        tex.filter = (ctx.LINEAR, ctx.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return tex

    def _upload(self, scene: SceneSpec):
        ctx = self._ctx
        floor_prog = self._floor_prog(scene.floor)
        floor_half = float(scene.floor.half_extent_m)
        f = floor_half
        floor = np.array(
            [[-f, -f, 0], [f, -f, 0], [f, f, 0], [-f, -f, 0], [f, f, 0], [-f, f, 0]], dtype="f4"
        )
        geoms = [(floor, np.tile(np.array([0, 0, 1], "f4"), (6, 1)))]
        geoms += [meshes.object_mesh(o) for o in scene.objects]
        vaos, shadow_vaos, buffers = [], [], []
        self._lamp_vaos, self._tint_vaos = [], []
        for k, (pos, nrm) in enumerate(geoms):
            data = np.ascontiguousarray(np.concatenate([pos, nrm], axis=1), dtype="f4")
            vbo = ctx.buffer(data.tobytes())
            buffers.append(vbo)
            if k == 0:  # the floor's shader never reads the normal
                vaos.append(ctx.vertex_array(floor_prog, [(vbo, "3f 12x", "in_pos")]))
            else:
                obj = scene.objects[k - 1]
                prog = self._progs[look.TEXTURED_OBJECT] if self._footage and look.textured(obj) else self._prog
                vaos.append(ctx.vertex_array(prog, [(vbo, "3f 3f", "in_pos", "in_nrm")]))
            shadow_vaos.append(ctx.vertex_array(self._shadow_prog, [(vbo, "3f 12x", "in_pos")]))
            if scene.lamps:
                self._lamp_vaos.append(ctx.vertex_array(self._lamp_prog, [(vbo, "3f 12x", "in_pos")]))
            if k and scene.objects[k - 1].transmission > 0:
                self._tint_vaos.append(ctx.vertex_array(self._tint_prog, [(vbo, "3f 12x", "in_pos")]))
            else:
                self._tint_vaos.append(None)
        return vaos, shadow_vaos, buffers + self._lamp_vaos + [v for v in self._tint_vaos if v is not None]

    # ------------------------------------------------------------------ rendering
    def render_views(self, scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray) -> Views:
        t_start = time.process_time()
        W, H, T = scene.width, scene.height, scene.num_frames
        shadow_size = self.shadow_map_size or int(min(1024, max(256, 2 * max(W, H))))
        self._optics = (int(bool(scene.lamps)), int(any(o.transmission > 0 for o in scene.objects)), int(bool(scene.mirrors)))
        self._setup(W, H, shadow_size, 4 if any(self._optics) else 2)
        self._use_programs((*self._optics, int(look.is_footage(scene))))
        removed = scene.removed_mask()
        vaos, shadow_vaos, buffers = self._upload(scene)
        try:
            light_vp = shadow_frustum(scene, poses_full, poses_removed)
            self._set_static_uniforms(scene, light_vp, shadow_size)
            cams = [self._camera(scene, t) for t in range(T)]
            models_full = model_matrices(poses_full)
            models_removed = model_matrices(poses_removed)
            visible_all = np.ones(len(scene.objects), bool)
            views = {
                "full": self._render_view(scene, vaos, shadow_vaos, cams, models_full, poses_full, visible_all),
                "removed": self._render_view(scene, vaos, shadow_vaos, cams, models_removed, poses_removed, ~removed),
            }
            # hidden and removed draw the same objects; at frames where every kept object has
            # bit-identical poses in both runs (before the first contact, or always when nothing
            # interacts) the two images are the same, so those frames are copied, not drawn
            kept = ~removed
            same = np.all(poses_full[:, kept] == poses_removed[:, kept], axis=(1, 2)) & self.reuse_frames
            views["hidden"] = self._render_view(
                scene, vaos, shadow_vaos, cams, models_full, poses_full, kept, copy_from=views["removed"], skip=same
            )
        finally:
            for obj in vaos + shadow_vaos + buffers:
                obj.release()
        cpu = time.process_time() - t_start
        return Views(
            full=views["full"],
            hidden=views["hidden"],
            removed=views["removed"],
            info=self.settings() | {"shadow_map_size": shadow_size},
            timings_s={"render": cpu},
        )

    def _camera(self, scene: SceneSpec, frame: int):
        eye, target, up, fov = camera_at(scene.camera, frame, scene.num_frames)
        view = look_at_matrix(eye, target, up)
        proj = perspective_matrix(fov, scene.width / scene.height, scene.camera.near_m, scene.camera.far_m)
        if not scene.mirrors:
            return _gl(view), _gl(proj), eye.astype("f4").tobytes(), None
        plane = scene.mirrors[0].plane()
        mirrored = optics.reflection_matrix(plane)
        eye_m = (mirrored @ np.r_[eye, 1.0])[:3]
        return _gl(view), _gl(proj), eye.astype("f4").tobytes(), (_gl(view @ mirrored), eye_m.astype("f4").tobytes())

    def _set_static_uniforms(self, scene: SceneSpec, light_vp: np.ndarray, shadow_size: int) -> None:
        d = -np.asarray(scene.light.sun_direction, float)
        floor = scene.floor
        mirror = scene.mirrors[0] if scene.mirrors else None
        plane = mirror.plane() if mirror else np.zeros(4)
        sky = look.ambient_colors(scene) if self._footage else None
        for prog in self._progs.values():
            if sky is not None:
                _set(prog, "u_sky_up", sky[0])
                _set(prog, "u_sky_down", sky[1])
            _set(prog, "u_sun_dir", tuple(float(v) for v in d / np.linalg.norm(d)))
            _set(prog, "u_sun_color", tuple(float(c * scene.light.sun_intensity) for c in scene.light.sun_color))
            _set(prog, "u_ambient", float(scene.light.ambient))
            _write(prog, "u_light_vp", _gl(light_vp))
            _set(prog, "u_texel", 1.0 / shadow_size)
            _set(prog, "u_floor2", tuple(floor.color2))
            _set(prog, "u_tile", float(floor.tile_m))
            _set(prog, "u_mirror_plane", tuple(float(v) for v in plane))
            _set(prog, "u_mirror_tint", tuple(float(v) for v in (mirror.tint if mirror else (1, 1, 1))))
            _set(prog, "u_clip", (0.0, 0.0, 0.0, 1.0))
            _set(prog, "u_emission", 0.0)
            _set(prog, "u_alpha", 1.0)
            _set(prog, "u_reflect", 0.0)
            _set(prog, "u_lamp_on", 0.0)
        _write(self._shadow_prog, "u_light_vp", _gl(light_vp))
        _write(self._tint_prog, "u_light_vp", _gl(light_vp))
        # the sky colour as the shader would write it (8-bit, gamma 2.2)
        self._sky = tuple(round(float(c) ** (1 / 2.2) * 255) / 255 for c in scene.background)
        self._far = float(scene.camera.far_m)
        self._plane = plane

    def _render_view(self, scene, vaos, shadow_vaos, cams, models, poses, visible, copy_from=None, skip=None) -> RenderPasses:
        """Render one view; frames flagged in ``skip`` are taken from ``copy_from`` instead."""
        ctx, T = self._ctx, len(cams)
        W, H = scene.width, scene.height
        rgb = np.empty((T, H, W, 3), np.uint8)
        optical = any(self._optics)
        n_aux = 4 if optical else 2
        aux = np.empty((T, H, W, n_aux), np.float32)
        if skip is None:
            skip = np.zeros(T, bool)
        floor = scene.floor
        floor_prog = self._floor_prog(floor)
        if self._footage:  # a floor's finish: tiles and marble shine
            gloss = 1.0 - float(floor.roughness)
            _set(floor_prog, "u_spec", 0.04 + 0.2 * gloss if self.specular else 0.0)
            _set(floor_prog, "u_shininess", 8.0 + 56.0 * gloss)
        _set(floor_prog, "u_albedo", tuple(floor.color))
        _set(floor_prog, "u_id", 0.0)
        objects = [(k, o) for k, o in enumerate(scene.objects) if visible[k]]
        materials = [self._material(o) for _, o in objects]
        mirror = scene.mirrors[0] if scene.mirrors else None
        for t in range(T):
            if skip[t]:
                continue
            drawn = [(k, o, m) for (k, o), m in zip(objects, materials) if np.isfinite(models[t, k]).all()]
            opaque = [d for d in drawn if d[1].transmission <= 0]
            glass = [d for d in drawn if d[1].transmission > 0]
            # 1. shadow maps: opaque objects from the sun; glass depth and tint from the sun;
            #    the lamp's distance map (without the object that carries it)
            self._shadow_fbo.use()
            self._shadow_fbo.clear(depth=1.0)
            ctx.enable(ctx.DEPTH_TEST)
            for k, _, _ in opaque:
                _write(self._shadow_prog, "u_model", _gl(models[t, k]))
                shadow_vaos[k + 1].render()
            if self._optics[1]:
                for prog in self._progs.values():
                    _set(prog, "u_glass_on", float(bool(glass)))
            if glass:
                self._glass_maps(glass, models[t], shadow_vaos)
            if scene.lamps:
                self._lamp_map(scene, optics.lamp_state(scene, poses, visible, t), opaque, models[t])
            # 2. the mirrored render, then the scene: colour, id, depth in one pass each
            view, proj, eye, mirrored = cams[t]
            if mirror is not None:
                skip_ids = {mirror.object_id} if mirror.object_id else set()
                ctx.enable_direct(_GL_CLIP_DISTANCE0)
                self._refl_fbo_color.clear(*self._sky, 1.0)
                self._refl_fbo_id.clear(0.0, self._far, 0.0, 1.0, depth=1.0)
                self._draw(scene, vaos, models[t], opaque, glass, mirrored[0], proj, mirrored[1], self._refl_fbo,
                           clip=tuple(float(v) for v in self._plane - np.r_[0, 0, 0, 1e-3]),
                           skip_ids=skip_ids, draw_floor=bool(mirror.object_id))
                ctx.disable_direct(_GL_CLIP_DISTANCE0)
            self._fbo_color.clear(*self._sky, 1.0)
            self._fbo_id.clear(0.0, self._far, 0.0, 1.0, depth=1.0)
            self._draw(scene, vaos, models[t], opaque, glass, view, proj, eye, self._fbo, mirror=mirror)
            self._fbo.read_into(rgb[t], components=3, attachment=0)
            self._fbo.read_into(aux[t], components=n_aux, attachment=1, dtype="f4")
        aux[skip] = 0.0  # never drawn; replaced below
        # GL rows run bottom-up
        rgb = np.ascontiguousarray(rgb[:, ::-1])
        aux = aux[:, ::-1]
        ids = np.ascontiguousarray(aux[..., 0]).astype(np.int32)
        depth = np.ascontiguousarray(aux[..., 1])
        if optical:
            lamp_lit = aux[..., 2] >= 500.0
            refl_id = aux[..., 2] - 1000.0 * lamp_lit
            # the signature: colour, the object id a mirror shows here, whether the lamp reaches it
            signature = np.concatenate(
                [rgb, refl_id.astype(np.uint8)[..., None], lamp_lit.astype(np.uint8)[..., None]], axis=-1
            )
        else:
            signature = rgb
        if skip.any():
            rgb[skip], ids[skip], depth[skip] = copy_from.rgb[skip], copy_from.ids[skip], copy_from.depth[skip]
            signature[skip] = copy_from.signature[skip]
        return RenderPasses(rgb=rgb, ids=ids, signature=signature, depth=depth)

    def _glass_maps(self, glass, models, shadow_vaos) -> None:
        """Nearest glass depth and the product of the glass faces' filters, seen from the sun."""
        ctx = self._ctx
        # two framebuffers, not one with colour masks: moderngl applies a framebuffer's masks
        # when it is bound, so a mask changed while bound would hold only from the next frame
        self._glass_fbo.use()
        self._glass_fbo.clear(depth=1.0)
        for k, _, _ in glass:
            _write(self._shadow_prog, "u_model", _gl(models[k]))
            shadow_vaos[k + 1].render()
        self._tint_fbo.use()
        self._tint_fbo.clear(1.0, 1.0, 1.0, 1.0)
        ctx.disable(ctx.DEPTH_TEST)
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.ZERO, ctx.SRC_COLOR
        for k, o, _ in glass:
            _write(self._tint_prog, "u_model", _gl(models[k]))
            _set(self._tint_prog, "u_filter", optics.glass_filter(o))
            self._tint_vaos[k + 1].render()
        ctx.disable(ctx.BLEND)
        ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
        ctx.enable(ctx.DEPTH_TEST)

    def _lamp_map(self, scene, lamp, opaque, models) -> None:
        for prog in self._progs.values():
            _set(prog, "u_lamp_on", float(lamp is not None))
        if lamp is None:
            return
        spec, pos, axis = lamp
        faces = optics.lamp_faces(spec, pos, axis)
        cos_outer, cos_inner = optics.lamp_cones(spec)
        vps = b"".join(_gl(m) for m in faces + [faces[0]] * (6 - len(faces)))
        for prog in self._progs.values():
            _set(prog, "u_lamp_pos", tuple(float(v) for v in pos))
            _set(prog, "u_lamp_axis", tuple(float(v) for v in axis))
            _set(prog, "u_lamp_color", tuple(float(c * spec.power) for c in spec.color))
            _set(prog, "u_lamp_spot", float(spec.kind == "spot"))
            _set(prog, "u_lamp_cos_outer", cos_outer)
            _set(prog, "u_lamp_cos_inner", cos_inner)
            _set(prog, "u_lamp_range", float(spec.range_m))
            _write(prog, "u_lamp_vp", vps)
        prog = self._lamp_prog
        _set(prog, "u_lamp_pos", tuple(float(v) for v in pos))
        _set(prog, "u_lamp_range", float(spec.range_m))
        self._lamp_fbo.use()
        self._lamp_fbo.clear(depth=1.0)
        tile = self._lamp_tile
        casters = [k for k, o, _ in opaque if o.id != spec.attached_to]
        for f, vp in enumerate(faces):
            self._ctx.viewport = ((f % 3) * tile, (f // 3) * tile, tile, tile)
            _write(prog, "u_light_vp", _gl(vp))
            for k in casters:
                _write(prog, "u_model", _gl(models[k]))
                self._lamp_vaos[k + 1].render()

    def _draw(self, scene, vaos, models, opaque, glass, view, proj, eye, fbo, *, clip=None, skip_ids=(),
              draw_floor=True, mirror=None) -> None:
        """Opaque objects, the floor, then blended glass, into ``fbo`` seen through ``view``."""
        ctx, prog = self._ctx, self._prog
        floor_prog = self._floor_prog(scene.floor)
        fbo.use()
        optical = any(self._optics)
        for unit, tex in enumerate((self._shadow_tex, self._lamp_tex, self._glass_tex, self._tint_tex,
                                    self._refl_color, self._refl_id)[: 6 if optical else 1]):
            tex.use(location=unit)
        for p in {prog, floor_prog, self._progs.get(look.TEXTURED_OBJECT, prog)}:
            _write(p, "u_view", view)
            _write(p, "u_proj", proj)
            _write(p, "u_eye", eye)
            if self._optics[2]:
                _set(p, "u_clip", clip or (0.0, 0.0, 0.0, 1.0))
        floor_mirror = mirror is not None and mirror.object_id == 0
        for k, o, (spec, shininess) in opaque:
            if o.id in skip_ids:
                continue
            self._draw_object(prog, vaos, models, k, o, spec, shininess, mirror, optical)
        # the floor after opaque objects: the depth test then skips shading it behind them
        if draw_floor:
            if floor_mirror:
                _set(floor_prog, "u_reflect", float(mirror.reflectivity))
            _write(floor_prog, "u_model", _gl(np.eye(4)))
            if floor_prog is self._progs.get(look.TEXTURED_FLOOR):
                look.bind(self._textures, floor_prog, scene.floor.pattern, scene.floor.texture_variant,
                          scene.floor.tile_m, _set)
            vaos[0].render()
            if floor_mirror:
                _set(floor_prog, "u_reflect", 0.0)
        if glass:
            ctx.enable(ctx.BLEND)
            ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
            for k, o, (spec, shininess) in glass:
                if o.id in skip_ids:
                    continue
                _set(prog, "u_alpha", optics.glass_alpha(o))
                self._draw_object(prog, vaos, models, k, o, spec, shininess, mirror, optical)
            _set(prog, "u_alpha", 1.0)
            ctx.disable(ctx.BLEND)

    def _draw_object(self, prog, vaos, models, k, o, spec, shininess, mirror, optical) -> None:
        if vaos[k + 1].program is not prog:  # a textured object (the footage look)
            prog = vaos[k + 1].program
            look.bind(self._textures, prog, o.texture, o.texture_variant, textures.repeat_m(o), _set)
        _write(prog, "u_model", _gl(models[k]))
        _set(prog, "u_albedo", tuple(o.color))
        _set(prog, "u_id", float(o.id))
        _set(prog, "u_spec", spec)
        _set(prog, "u_shininess", shininess)
        if optical:
            _set(prog, "u_emission", float(o.emission))
            is_mirror = mirror is not None and mirror.object_id == o.id
            _set(prog, "u_reflect", float(mirror.reflectivity) if is_mirror else 0.0)
        vaos[k + 1].render()

    def _material(self, obj) -> tuple[float, float]:
        if not self.specular:
            return 0.0, 8.0
        gloss = 1.0 - float(obj.roughness)
        return 0.04 + 0.4 * gloss * (0.5 + 0.5 * float(obj.metallic)), 8.0 + 56.0 * gloss

    def settings(self) -> dict[str, Any]:
        return {
            "renderer": self.name,
            "backend": "moderngl/EGL",
            "shading": "lambert+ambient+blinn-phong, bilinear PCF sun shadow map; point/spot lamp with a "
                       "distance shadow atlas; planar mirrors by a mirrored render; alpha-blended glass with "
                       "tinted sun shadows; footage look: procedural textures (triplanar, trilinear mipmaps) "
                       "and a sky/ground hemisphere ambient",
            "antialiasing": "none",
            "reuse_frames": self.reuse_frames,
            "shadow_map_size": self.shadow_map_size or "auto",
        }

    def close(self) -> None:
        for name in self._GL_NAMES + ("_shadow_prog", "_lamp_prog", "_tint_prog"):
            obj = getattr(self, name, None)
            if obj is not None:
                obj.release()
                setattr(self, name, None)
        for progs in getattr(self, "_variants", {}).values():
            for prog in progs.values():
                prog.release()
        if getattr(self, "_textures", None) is not None:
            self._textures.release()
        self._variants, self._progs, self._prog, self._textures = {}, {}, None, None
        self._ctx = None
        self._size = None
