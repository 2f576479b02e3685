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

from simulate import meshes
from simulate.render.base import Renderer, RenderPasses, Views
from simulate.rotation import quat_matrix
from simulate.scene import SceneSpec, camera_at, look_at_matrix, perspective_matrix

_CTX = None  # one EGL context per process, reused by every renderer instance

_VERT = """
#version 330
uniform mat4 u_model;
uniform mat4 u_view;
uniform mat4 u_proj;
uniform mat4 u_light_vp;
in vec3 in_pos;
in vec3 in_nrm;
out vec3 v_world;
out vec3 v_nrm;
out vec4 v_light;
out float v_depth;
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
    v_world = w.xyz;
    v_nrm = mat3(u_model) * in_nrm;
    v_light = u_light_vp * w;
    vec4 cam = u_view * w;
    v_depth = -cam.z;
    gl_Position = u_proj * cam;
}
"""

# Compiled once per PATTERN (0 objects, 1 checker floor, 2 plain floor, 3 noise floor):
# llvmpipe pays for both sides of a branch, so the floor patterns are not runtime branches.
_FRAG = """
uniform vec3 u_albedo;
uniform float u_id;
uniform vec3 u_floor2;
uniform float u_tile;
uniform vec3 u_sun_dir;       // towards the sun
uniform vec3 u_sun_color;
uniform float u_ambient;
uniform vec3 u_eye;
uniform float u_spec;
uniform float u_shininess;
uniform float u_texel;
uniform sampler2DShadow u_shadow;
in vec3 v_world;
in vec3 v_nrm;
in vec4 v_light;
in float v_depth;
layout(location = 0) out vec4 f_color;
layout(location = 1) out vec2 f_id_depth;

#if PATTERN == 3
float hash(vec2 p) { return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453); }
float vnoise(vec2 p) {
    vec2 i = floor(p), f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y);
}
#endif

void main() {
    vec3 albedo = u_albedo;
#if PATTERN == 0
    vec3 to_eye = normalize(u_eye - v_world);
    vec3 n = normalize(v_nrm);
    if (dot(n, to_eye) < 0.0) n = -n;   // meshes of unknown winding are lit from the seen side
#else
    vec3 n = vec3(0.0, 0.0, 1.0);
#endif
#if PATTERN == 1
    vec2 cell = floor(v_world.xy / u_tile);
    albedo = mod(cell.x + cell.y, 2.0) < 0.5 ? u_albedo : u_floor2;
#elif PATTERN == 3
    float t = 0.6 * vnoise(v_world.xy / u_tile) + 0.4 * vnoise(v_world.xy / u_tile * 4.0);
    albedo = mix(u_albedo, u_floor2, t);
#endif
    vec3 p = v_light.xyz / v_light.w * 0.5 + 0.5;
    float ndl = max(dot(n, u_sun_dir), 0.0);
    float bias = u_texel * (1.5 + 2.0 * sqrt(1.0 - ndl * ndl) / max(ndl, 0.2));
    // one bilinear comparison tap = 2x2 percentage-closer filtering
    float lit = texture(u_shadow, vec3(p.xy, p.z - bias));
    if (p.x < 0.0 || p.x > 1.0 || p.y < 0.0 || p.y > 1.0) lit = 1.0;
#if PATTERN == 0
    vec3 h = normalize(u_sun_dir + to_eye);
    float spec = u_spec * pow(max(dot(n, h), 0.0), u_shininess) * step(0.0, ndl);
#else
    float spec = 0.0;
#endif
    vec3 c = albedo * (u_ambient + u_sun_color * ndl * lit) + u_sun_color * spec * lit;
    f_color = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
    f_id_depth = vec2(u_id, v_depth);
}
"""

_SHADOW_VERT = """
#version 330
uniform mat4 u_light_vp;
uniform mat4 u_model;
in vec3 in_pos;
void main() { gl_Position = u_light_vp * u_model * vec4(in_pos, 1.0); }
"""
_SHADOW_FRAG = """
#version 330
void main() {}
"""
_PATTERNS = {"checker": 1, "plain": 2, "noise": 3}


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
    pts = [np.asarray(o.position, float)[None] for o in scene.objects]
    for poses in pose_sets:
        xyz = poses[..., :3].reshape(-1, 3)
        pts.append(xyz[np.isfinite(xyz).all(axis=1)])
    pts.append(np.asarray(scene.camera.look_at, float)[None])
    pts = np.concatenate(pts)
    reach = max((meshes.bounding_radius(o) for o in scene.objects), default=0.2)
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

    def __init__(self, shadow_map_size: int | None = None, specular: bool = True, reuse_frames: bool = True):
        self.shadow_map_size = shadow_map_size  # None: scaled with the output size
        self.specular = specular
        self.reuse_frames = reuse_frames  # copy hidden frames that must equal removed ones
        self._ctx = None
        self._size = None

    # ------------------------------------------------------------------ GL objects
    def _setup(self, width: int, height: int, shadow_size: int) -> None:
        ctx = _context()
        if self._ctx is None:
            self._ctx = ctx
            self._progs = {
                k: ctx.program(vertex_shader=_VERT, fragment_shader=f"#version 330\n#define PATTERN {k}\n{_FRAG}")
                for k in (0, 1, 2, 3)
            }
            self._prog = self._progs[0]
            self._shadow_prog = ctx.program(vertex_shader=_SHADOW_VERT, fragment_shader=_SHADOW_FRAG)
        if self._size != (width, height, shadow_size):
            for name in ("_fbo", "_fbo_color", "_fbo_id", "_color", "_iddepth", "_zbuf", "_shadow_fbo", "_shadow_tex"):
                obj = getattr(self, name, None)
                if obj is not None:
                    obj.release()
            self._color = ctx.renderbuffer((width, height), 4, dtype="f1")
            self._iddepth = ctx.renderbuffer((width, height), 2, dtype="f4")
            self._zbuf = ctx.depth_renderbuffer((width, height))
            self._fbo = ctx.framebuffer([self._color, self._iddepth], self._zbuf)
            # one framebuffer per attachment, only to clear each to its own value (sky colour;
            # id 0 at the far plane): a clear is free, a full-screen sky pass is not
            self._fbo_color = ctx.framebuffer([self._color])
            self._fbo_id = ctx.framebuffer([self._iddepth], self._zbuf)
            self._shadow_tex = ctx.depth_texture((shadow_size, shadow_size))
            self._shadow_tex.compare_func = "<="
            self._shadow_tex.filter = (ctx.LINEAR, ctx.LINEAR)
            self._shadow_tex.repeat_x = self._shadow_tex.repeat_y = False
            self._shadow_fbo = ctx.framebuffer(depth_attachment=self._shadow_tex)
            self._size = (width, height, shadow_size)

    def _upload(self, scene: SceneSpec):
        ctx = self._ctx
        floor_prog = self._progs[_PATTERNS.get(scene.floor.pattern, 2)]
        floor_half = float(scene.floor.half_extent_m)
        f = floor_half
        floor = np.array(
            [[-f, -f, 0], [f, -f, 0], [f, f, 0], [-f, -f, 0], [f, f, 0], [-f, f, 0]], dtype="f4"
        )
        geoms = [(floor, np.tile(np.array([0, 0, 1], "f4"), (6, 1)))]
        geoms += [meshes.object_mesh(o) for o in scene.objects]
        vaos, shadow_vaos, buffers = [], [], []
        for k, (pos, nrm) in enumerate(geoms):
            data = np.ascontiguousarray(np.concatenate([pos, nrm], axis=1), dtype="f4")
            vbo = ctx.buffer(data.tobytes())
            buffers.append(vbo)
            if k == 0:  # the floor's shader never reads the normal
                vaos.append(ctx.vertex_array(floor_prog, [(vbo, "3f 12x", "in_pos")]))
            else:
                vaos.append(ctx.vertex_array(self._prog, [(vbo, "3f 3f", "in_pos", "in_nrm")]))
            shadow_vaos.append(ctx.vertex_array(self._shadow_prog, [(vbo, "3f 12x", "in_pos")]))
        return vaos, shadow_vaos, buffers

    # ------------------------------------------------------------------ rendering
    def render_views(self, scene: SceneSpec, poses_full: np.ndarray, poses_removed: np.ndarray) -> Views:
        t_start = time.process_time()
        W, H, T = scene.width, scene.height, scene.num_frames
        shadow_size = self.shadow_map_size or int(min(1024, max(256, 2 * max(W, H))))
        self._setup(W, H, shadow_size)
        ctx = self._ctx
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
                "full": self._render_view(scene, vaos, shadow_vaos, cams, models_full, visible_all),
                "removed": self._render_view(scene, vaos, shadow_vaos, cams, models_removed, ~removed),
            }
            # hidden and removed draw the same objects; at frames where every kept object has
            # bit-identical poses in both runs (before the first contact, or always when nothing
            # interacts) the two images are the same, so those frames are copied, not drawn
            kept = ~removed
            same = np.all(poses_full[:, kept] == poses_removed[:, kept], axis=(1, 2)) & self.reuse_frames
            views["hidden"] = self._render_view(
                scene, vaos, shadow_vaos, cams, models_full, kept, copy_from=views["removed"], skip=same
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
        return _gl(view), _gl(proj), eye.astype("f4").tobytes()

    def _set_static_uniforms(self, scene: SceneSpec, light_vp: np.ndarray, shadow_size: int) -> None:
        d = -np.asarray(scene.light.sun_direction, float)
        floor = scene.floor
        for prog in self._progs.values():
            _set(prog, "u_sun_dir", tuple(float(v) for v in d / np.linalg.norm(d)))
            _set(prog, "u_sun_color", tuple(float(c * scene.light.sun_intensity) for c in scene.light.sun_color))
            _set(prog, "u_ambient", float(scene.light.ambient))
            _write(prog, "u_light_vp", _gl(light_vp))
            _set(prog, "u_texel", 1.0 / shadow_size)
            _set(prog, "u_shadow", 0)
            _set(prog, "u_floor2", tuple(floor.color2))
            _set(prog, "u_tile", float(floor.tile_m))
        _write(self._shadow_prog, "u_light_vp", _gl(light_vp))
        # the sky colour as the shader would write it (8-bit, gamma 2.2)
        self._sky = tuple(round(float(c) ** (1 / 2.2) * 255) / 255 for c in scene.background)
        self._far = float(scene.camera.far_m)

    def _render_view(self, scene, vaos, shadow_vaos, cams, models, visible, copy_from=None, skip=None) -> RenderPasses:
        """Render one view; frames flagged in ``skip`` are taken from ``copy_from`` instead."""
        ctx, prog, T = self._ctx, self._prog, len(cams)
        W, H = scene.width, scene.height
        rgb = np.empty((T, H, W, 3), np.uint8)
        iddepth = np.empty((T, H, W, 2), np.float32)
        if skip is None:
            skip = np.zeros(T, bool)
        floor = scene.floor
        floor_prog = self._progs[_PATTERNS.get(floor.pattern, 2)]
        _set(floor_prog, "u_albedo", tuple(floor.color))
        _set(floor_prog, "u_id", 0.0)
        identity = _gl(np.eye(4))
        objects = [(k, o) for k, o in enumerate(scene.objects) if visible[k]]
        materials = [self._material(o) for _, o in objects]
        for t in range(T):
            if skip[t]:
                continue
            drawn = [(k, o, m) for (k, o), m in zip(objects, materials) if np.isfinite(models[t, k]).all()]
            # 1. shadow map from the sun
            self._shadow_fbo.use()
            self._shadow_fbo.clear(depth=1.0)
            ctx.enable(ctx.DEPTH_TEST)
            for k, _, _ in drawn:
                _write(self._shadow_prog, "u_model", _gl(models[t, k]))
                shadow_vaos[k + 1].render()
            # 2. floor and objects over the sky: colour, id and depth in one pass
            self._fbo_color.clear(*self._sky, 1.0)
            self._fbo_id.clear(0.0, self._far, 0.0, 0.0, depth=1.0)
            self._fbo.use()
            self._shadow_tex.use(location=0)
            view, proj, eye = cams[t]
            for p in (prog, floor_prog):
                _write(p, "u_view", view)
                _write(p, "u_proj", proj)
                _write(p, "u_eye", eye)
            for k, o, (spec, shininess) in drawn:
                _write(prog, "u_model", _gl(models[t, k]))
                _set(prog, "u_albedo", tuple(o.color))
                _set(prog, "u_id", float(o.id))
                _set(prog, "u_spec", spec)
                _set(prog, "u_shininess", shininess)
                vaos[k + 1].render()
            # the floor last: the depth test then skips shading it behind objects
            _write(floor_prog, "u_model", identity)
            vaos[0].render()
            self._fbo.read_into(rgb[t], components=3, attachment=0)
            self._fbo.read_into(iddepth[t], components=2, attachment=1, dtype="f4")
        iddepth[skip] = 0.0  # never drawn; replaced below
        # GL rows run bottom-up
        rgb = np.ascontiguousarray(rgb[:, ::-1])
        ids = np.ascontiguousarray(iddepth[:, ::-1, :, 0]).astype(np.int32)
        depth = np.ascontiguousarray(iddepth[:, ::-1, :, 1])
        if skip.any():
            rgb[skip], ids[skip], depth[skip] = copy_from.rgb[skip], copy_from.ids[skip], copy_from.depth[skip]
        return RenderPasses(rgb=rgb, ids=ids, signature=rgb, depth=depth)

    def _material(self, obj) -> tuple[float, float]:
        if not self.specular:
            return 0.0, 8.0
        gloss = 1.0 - float(obj.roughness)
        return 0.04 + 0.4 * gloss * (0.5 + 0.5 * float(obj.metallic)), 8.0 + 56.0 * gloss

    def settings(self) -> dict[str, Any]:
        return {
            "renderer": self.name,
            "backend": "moderngl/EGL",
            "shading": "lambert+ambient+blinn-phong, bilinear PCF sun shadow map",
            "antialiasing": "none",
            "reuse_frames": self.reuse_frames,
            "shadow_map_size": self.shadow_map_size or "auto",
        }

    def close(self) -> None:
        for name in ("_fbo", "_fbo_color", "_fbo_id", "_color", "_iddepth", "_zbuf", "_shadow_fbo", "_shadow_tex",
                     "_shadow_prog"):
            obj = getattr(self, name, None)
            if obj is not None:
                obj.release()
                setattr(self, name, None)
        for prog in getattr(self, "_progs", {}).values():
            prog.release()
        self._progs, self._prog = {}, None
        self._ctx = None
        self._size = None
