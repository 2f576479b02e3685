"""GLSL sources of the raster renderer (:mod:`simulate.render.raster`).

The main program is compiled per floor PATTERN, per optics (LAMP, GLASS, MIRROR) and per look
(FOOTAGE: textures and the hemisphere ambient, :mod:`simulate.render.raster_look`), each a
``#define`` the renderer puts in front: llvmpipe pays for code behind a branch on every
fragment, so what a scene does not use is not compiled in.
"""

VERT = """
uniform mat4 u_model;
uniform mat4 u_view;
uniform mat4 u_proj;
uniform mat4 u_light_vp;
uniform vec4 u_clip;  // mirrored pass: keep the reflected side of the mirror plane
in vec3 in_pos;
in vec3 in_nrm;
out vec3 v_world;
out vec3 v_nrm;
out vec4 v_light;
out float v_depth;
#if FOOTAGE
out vec3 v_local;   // body frame: a texture moves with its object
out vec3 v_lnrm;
#endif
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
#if FOOTAGE
    v_local = in_pos;
    v_lnrm = in_nrm;
#endif
    v_world = w.xyz;
    v_nrm = mat3(u_model) * in_nrm;
    v_light = u_light_vp * w;
    vec4 cam = u_view * w;
    v_depth = -cam.z;
#if MIRROR
    gl_ClipDistance[0] = dot(u_clip, vec4(w.xyz, 1.0));
#endif
    gl_Position = u_proj * cam;
}
"""

# Compiled once per PATTERN (0 objects, 1 checker floor, 2 plain floor, 3 noise floor):
# llvmpipe pays for both sides of a branch, so the floor patterns are not runtime branches.
FRAG = """
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
uniform float u_emission;     // glows in its own colour
uniform float u_alpha;        // < 1: blended glass
// Optics, compiled in only for scenes that have them (LAMP, GLASS, MIRROR): llvmpipe pays for
// code behind a uniform branch on every fragment.
#if LAMP
// the lamp (point or spot), its distance shadow atlas (3 x 2 cube faces, or tile 0 for a spot)
uniform float u_lamp_on;
uniform vec3 u_lamp_pos;
uniform vec3 u_lamp_color;
uniform vec3 u_lamp_axis;
uniform float u_lamp_spot;
uniform float u_lamp_cos_outer;
uniform float u_lamp_cos_inner;
uniform float u_lamp_range;
uniform float u_lamp_texel;
uniform mat4 u_lamp_vp[6];
uniform sampler2DShadow u_lamp_shadow;
#endif
#if GLASS
// glass between the sun and a point tints the sun's light
uniform float u_glass_on;
uniform sampler2DShadow u_glass_shadow;
uniform sampler2D u_glass_tint;
#endif
#if MIRROR
// a planar mirror: this surface shows the mirrored render where it lies in the plane
uniform float u_reflect;
uniform vec4 u_mirror_plane;
uniform vec3 u_mirror_tint;
uniform sampler2D u_refl_color;
uniform sampler2D u_refl_id;
#endif
#if FOOTAGE
// the footage look (simulate.render.raster_look): PATTERN 4 a textured object, 5 a textured floor
uniform sampler2D u_tex;      // simulate.textures image, linear RGB
uniform float u_tex_m;        // metres per image repeat
uniform vec3 u_tex_mean;      // its mean colour: albedo = colour x texture / mean
uniform vec3 u_sky_up;        // hemisphere ambient: sky above, floor bounce below
uniform vec3 u_sky_down;
in vec3 v_local;
in vec3 v_lnrm;
#endif
in vec3 v_world;
in vec3 v_nrm;
in vec4 v_light;
in float v_depth;
layout(location = 0) out vec4 f_color;
layout(location = 1) out vec4 f_id_depth;   // id, depth, reflected id + 1000 * lamp-lit, 1

#if PATTERN == 3
float hash(vec2 p) { return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453); }
float vnoise(vec2 p) {
    vec2 i = floor(p), f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y);
}
#endif

#if LAMP
float lamp_light(vec3 n) {
    vec3 d = v_world - u_lamp_pos;
    float dist = length(d);
    vec3 l = -d / max(dist, 1e-6);
    float ndl = max(dot(n, l), 0.0);
    float win = clamp(1.0 - pow(dist / u_lamp_range, 4.0), 0.0, 1.0);
    float cone = u_lamp_spot > 0.5 ? smoothstep(u_lamp_cos_outer, u_lamp_cos_inner, dot(-l, u_lamp_axis)) : 1.0;
    float e = ndl * win * win * cone / (dist * dist + 0.01);
    if (e <= 0.0) return 0.0;
    int face = 0;
    if (u_lamp_spot < 0.5) {
        vec3 a = abs(d);
        if (a.x >= a.y && a.x >= a.z) face = d.x > 0.0 ? 0 : 1;
        else if (a.y >= a.z) face = d.y > 0.0 ? 2 : 3;
        else face = d.z > 0.0 ? 4 : 5;
    }
    vec4 lp = u_lamp_vp[face] * vec4(v_world, 1.0);
    vec2 uv = clamp(lp.xy / lp.w * 0.5 + 0.5, vec2(0.002), vec2(0.998));
    uv = (uv + vec2(float(face - 3 * (face / 3)), float(face / 3))) / vec2(3.0, 2.0);
    float bias = 0.015 + 0.03 * (1.0 - ndl);
    return e * texture(u_lamp_shadow, vec3(uv, (dist - bias) / u_lamp_range));
}
#endif

void main() {
    vec3 albedo = u_albedo;
#if PATTERN == 0 || PATTERN == 4
    vec3 to_eye = normalize(u_eye - v_world);
    vec3 n = normalize(v_nrm);
    if (dot(n, to_eye) < 0.0) n = -n;   // meshes of unknown winding are lit from the seen side
#else
    vec3 n = vec3(0.0, 0.0, 1.0);
#if PATTERN == 5
    vec3 to_eye = normalize(u_eye - v_world);
#endif
#endif
#if PATTERN == 1
    vec2 cell = floor(v_world.xy / u_tile);
    albedo = mod(cell.x + cell.y, 2.0) < 0.5 ? u_albedo : u_floor2;
#elif PATTERN == 3
    float t = 0.6 * vnoise(v_world.xy / u_tile) + 0.4 * vnoise(v_world.xy / u_tile * 4.0);
    albedo = mix(u_albedo, u_floor2, t);
#elif PATTERN == 4
    // triplanar in the body frame, weighted by how squarely each plane faces the normal
    vec3 wgt = pow(abs(normalize(v_lnrm)), vec3(4.0));
    wgt /= max(wgt.x + wgt.y + wgt.z, 1e-6);
    vec3 q = v_local / u_tex_m;
    vec3 tx = texture(u_tex, q.yz).rgb * wgt.x + texture(u_tex, q.xz).rgb * wgt.y + texture(u_tex, q.xy).rgb * wgt.z;
    albedo = u_albedo * tx / u_tex_mean;
#elif PATTERN == 5
    albedo = u_albedo * texture(u_tex, v_world.xy / u_tile).rgb / u_tex_mean;
#endif
    vec3 p = v_light.xyz / v_light.w * 0.5 + 0.5;
    float ndl = max(dot(n, u_sun_dir), 0.0);
    float bias = u_texel * (1.5 + 2.0 * sqrt(1.0 - ndl * ndl) / max(ndl, 0.2));
    // one bilinear comparison tap = 2x2 percentage-closer filtering
    float lit = texture(u_shadow, vec3(p.xy, p.z - bias));
    bool outside = p.x < 0.0 || p.x > 1.0 || p.y < 0.0 || p.y > 1.0;
    if (outside) lit = 1.0;
    vec3 sun = u_sun_color;
#if GLASS
    if (u_glass_on > 0.5 && !outside) {
        float front = texture(u_glass_shadow, vec3(p.xy, p.z - bias));
        sun *= mix(texture(u_glass_tint, p.xy).rgb, vec3(1.0), front);
    }
#endif
#if PATTERN == 0 || PATTERN == 4 || PATTERN == 5
    vec3 h = normalize(u_sun_dir + to_eye);
    float spec = u_spec * pow(max(dot(n, h), 0.0), u_shininess) * step(0.0, ndl);
#else
    float spec = 0.0;
#endif
#if FOOTAGE
    vec3 amb = u_ambient * mix(u_sky_down, u_sky_up, 0.5 + 0.5 * n.z);
    vec3 c = albedo * (amb + sun * ndl * lit) + sun * spec * lit;
#else
    vec3 c = albedo * (u_ambient + sun * ndl * lit) + sun * spec * lit;
#endif
    float lamp_lit = 0.0;
#if LAMP
    if (u_lamp_on > 0.5) {
        float e = lamp_light(n);
        c += albedo * u_lamp_color * e;
        lamp_lit = e > 0.0 ? 1.0 : 0.0;
    }
#endif
    c += u_albedo * u_emission;
    float refl_id = 0.0;
#if MIRROR
    if (u_reflect > 0.0 && abs(dot(u_mirror_plane, vec4(v_world, 1.0))) < 2e-3) {
        ivec2 px = ivec2(gl_FragCoord.xy);
        vec3 r = pow(texelFetch(u_refl_color, px, 0).rgb, vec3(2.2));
        c = mix(c, r * u_mirror_tint, u_reflect);
        refl_id = texelFetch(u_refl_id, px, 0).r;
    }
#endif
    f_color = vec4(pow(clamp(c, 0.0, 1.0), vec3(1.0 / 2.2)), u_alpha);
    f_id_depth = vec4(u_id, v_depth, refl_id + 1000.0 * lamp_lit, 1.0);
}
"""

SHADOW_VERT = """
#version 330
uniform mat4 u_light_vp;
uniform mat4 u_model;
in vec3 in_pos;
void main() { gl_Position = u_light_vp * u_model * vec4(in_pos, 1.0); }
"""
SHADOW_FRAG = """
#version 330
void main() {}
"""
# a lamp's shadow map stores distance / range, so the bias is in metres, not in NDC depth
LAMP_SHADOW_VERT = """
#version 330
uniform mat4 u_light_vp;
uniform mat4 u_model;
in vec3 in_pos;
out vec3 v_world;
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
    v_world = w.xyz;
    gl_Position = u_light_vp * w;
}
"""
LAMP_SHADOW_FRAG = """
#version 330
uniform vec3 u_lamp_pos;
uniform float u_lamp_range;
in vec3 v_world;
void main() { gl_FragDepth = clamp(length(v_world - u_lamp_pos) / u_lamp_range, 0.0, 1.0); }
"""
# glass seen from the sun: each face multiplies the light it lets through
TINT_FRAG = """
#version 330
uniform vec3 u_filter;
out vec4 f_color;
void main() { f_color = vec4(u_filter, 1.0); }
"""
