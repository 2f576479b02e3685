"""The video gallery of a leaderboard built from results bundles: ``SITE/gallery.html``.

Per clip, side by side and looping in sync: the input, the quadmask, the ground truth (from
the benchmark folder, when ``--bench`` is given) and every method's output (the small H.264
previews each bundle carries). Clips filter by family and sort by one method's score on a
chosen metric (worst or best first). The page is static: it opens from disk, the videos are
files under ``SITE/media/`` and the only script is inline.
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

from evaluate.bundle import write_preview
from leaderboard.inputs import InputError
from void import bench_format, video
from void.executors import run_tasks

GALLERY_HTML = "gallery.html"
MEDIA = "media"
BENCH_MEDIA = "_bench"  # method names start with a letter or digit, so this never collides
# label, what is encoded: a video of the clip (full / removed) or its quadmask
BENCH_VIEWS = (("input", "full"), ("quadmask", "mask"), ("ground truth", "removed"))
DEFAULT_METRIC = "psnr/all"
LINK = '<p class="meta"><a id="gallery-link" href="gallery.html">Video gallery: every clip, every method, side by side</a></p>'

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1800px;padding:0 1rem;color:#1d2330}
.controls{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #d8dde6;z-index:2}
.controls label{margin-right:1rem;font-size:.9rem}
section.clip{margin:1rem 0;padding-bottom:.6rem;border-bottom:1px solid #eef1f5}
section.clip h3{font-size:.95rem;margin:.2rem 0}
.row{display:flex;flex-wrap:wrap;gap:.4rem}
figure{margin:0;text-align:center}figure video{display:block;width:240px;height:auto;background:#111}
figcaption{font-size:.78rem;color:#5a6475}.score{font-variant-numeric:tabular-nums}
"""

SCRIPT = """
const sections=[...document.querySelectorAll('section.clip')];
const $=id=>document.getElementById(id);
function syncRow(sec){
  const vids=[...sec.querySelectorAll('video')]; if(!vids.length) return;
  const lead=vids[0];
  lead.addEventListener('timeupdate',()=>{for(const v of vids.slice(1)){
    if(Math.abs(v.currentTime-lead.currentTime)>0.1){v.currentTime=lead.currentTime;}}});
}
function play(sec,on){for(const v of sec.querySelectorAll('video')){
  if(on){if(v.preload!=='auto'){v.preload='auto';v.load();} v.currentTime=0; v.play().catch(()=>{});} else v.pause();}}
const seen=new IntersectionObserver(es=>es.forEach(e=>play(e.target,e.isIntersecting)),{rootMargin:'200px'});
sections.forEach(s=>{syncRow(s);seen.observe(s);});
function score(sec){const s=JSON.parse(sec.dataset.scores)[$('method').value]||{};const v=s[$('metric').value];
  return (v===undefined||v===null)?NaN:v;}
function apply(){
  const fam=$('family').value, dir=$('order').value==='best'?-1:1;
  const hib=JSON.parse(document.body.dataset.hib)[$('metric').value.split('/')[0]];
  const sign=(hib===false?-1:1)*dir;
  const list=sections.slice().sort((a,b)=>{const x=score(a),y=score(b);
    if(isNaN(x)&&isNaN(y))return a.dataset.clip<b.dataset.clip?-1:1; if(isNaN(x))return 1; if(isNaN(y))return -1;
    return sign*(x-y)||(a.dataset.clip<b.dataset.clip?-1:1);});
  const box=$('clips'); let shown=0;
  for(const s of list){box.appendChild(s); const ok=fam==='all'||s.dataset.family===fam; s.hidden=!ok; shown+=ok;
    const v=score(s); s.querySelector('.score').textContent=isNaN(v)?'n/a':v.toFixed(3);}
  $('count').textContent=shown+' clip(s)';
}
for(const id of ['family','method','metric','order']) $(id).addEventListener('change',apply);
apply();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bench_task(args: tuple[str, str, str, float]) -> str:
    src, kind, dst, fps = args
    frames = video.read_mask(src, strict=True) if kind == "mask" else video.read_video(src)
    write_preview(frames, Path(dst), fps)
    return dst


def _bench_media(site: Path, bench_dir: str, definition_hash: str, clips: list[str]) -> dict[str, dict[str, Path]]:
    bench = bench_format.Bench(bench_dir)
    if bench.definition_hash != definition_hash:
        raise InputError(
            f"--bench {bench_dir} is {bench.version} (definition {bench.definition_hash[:16]}), the bundles were "
            f"scored against definition {definition_hash[:16]}: the gallery would show other clips"
        )
    refs = bench.clips()
    missing = [c for c in clips if c not in refs]
    if missing:
        raise InputError(f"--bench {bench_dir} lacks clip(s) the bundles scored: {', '.join(missing[:5])}")
    out: dict[str, dict[str, Path]] = {c: {} for c in clips}
    tasks = []
    for clip in clips:
        ref = refs[clip]
        fps = float(ref.metadata().get("fps", 12))
        for label, kind in BENCH_VIEWS:
            dst = site / MEDIA / BENCH_MEDIA / kind / f"{clip}.mp4"
            out[clip][label] = dst
            src = ref.mask_path if kind == "mask" else ref.video_path(kind)
            # an earlier build of this site already encoded it (atomic writes: present means whole)
            if not dst.is_file() or dst.stat().st_mtime < src.stat().st_mtime:
                tasks.append((str(src), kind, str(dst), fps))
    for res in run_tasks(_bench_task, tasks, workers=max(1, min(len(tasks), os.cpu_count() or 1)), desc="gallery", unit="video", progress=False):
        if not res.ok:
            raise RuntimeError(f"gallery preview of {tasks[res.index][0]} failed:\n{res.error}")
    return out


def _scores(table) -> dict[str, dict[str, dict[str, float | None]]]:
    """clip -> method -> "metric/region" -> value (non-finite as None)."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in table.itertuples(index=False):
        v = float(row.value) if row.value is not None else math.nan
        out.setdefault(row.sample_id, {}).setdefault(row.method, {})[f"{row.metric}/{row.region}"] = v if math.isfinite(v) else None
    return out


def _figure(label: str, src: Path, site: Path) -> str:
    rel = src.relative_to(site).as_posix()
    return (f'<figure><video src="{_e(rel)}" muted loop playsinline preload="none"></video>'
            f"<figcaption>{_e(label)}</figcaption></figure>")


def write(site: Path, merged, bench_dir: str | None, table, *, title: str) -> Path:
    """Extract the bundles' previews, encode the benchmark's, write ``gallery.html``."""
    clips = merged.bundles[0].data.get("clips") or {}
    methods = merged.methods
    method_media = {b.method: b.extract_previews(site / MEDIA / b.method) for b in merged.bundles}
    bench_media = _bench_media(site, bench_dir, merged.definition_hash, sorted(clips)) if bench_dir else {}
    scores = _scores(table)
    hib = {str(m): bool(h) for m, h in table.groupby("metric")["higher_is_better"].first().items()}
    metrics = sorted({k for per_clip in scores.values() for per_m in per_clip.values() for k in per_m},
                     key=lambda k: (k != DEFAULT_METRIC, k))
    rows = []
    for clip in sorted(clips):
        figs = [_figure(label, path, site) for label, path in bench_media.get(clip, {}).items()]
        figs += [_figure(m, method_media[m][clip], site) for m in methods if clip in method_media[m]]
        rows.append(
            f'<section class="clip" data-clip="{_e(clip)}" data-family="{_e(clips[clip])}" '
            f"data-scores='{_e(json.dumps(scores.get(clip, {}), allow_nan=False))}'>"
            f'<h3>{_e(clip)} <span class="meta">({_e(clips[clip])})</span> '
            f'score: <span class="score"></span></h3><div class="row">{"".join(figs)}</div></section>'
        )
    fams = sorted(set(clips.values()))
    options = lambda values: "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)  # noqa: E731
    note = "" if bench_dir else '<p class="meta">Built without --bench: only the methods\' videos are shown.</p>'
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}: gallery</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body data-hib='{_e(json.dumps(hib))}'>
<h1>{_e(title)}: gallery</h1>
<p class="meta">{_e(merged.version)}, definition <code>{_e(merged.definition_hash[:16])}</code>; {len(clips)} clips,
{len(methods)} method(s). <a href="index.html">Tables</a></p>{note}
<div class="controls">
<label>family <select id="family"><option value="all">all</option>{options(fams)}</select></label>
<label>sort by method <select id="method">{options(methods)}</select></label>
<label>metric <select id="metric">{options(metrics)}</select></label>
<label>order <select id="order"><option value="worst">worst first</option><option value="best">best first</option></select></label>
<span id="count" class="meta"></span>
</div>
<div id="clips">{"".join(rows)}</div>
<script>{SCRIPT}</script>
</body></html>
"""
    path = site / GALLERY_HTML
    from leaderboard.build import _write  # the site's one writer (atomic, published permissions)

    _write(path, page)
    return path


def link(page: str) -> str:
    """``index.html`` with a link to the gallery under its title."""
    head, sep, rest = page.partition("</h1>")
    return head + sep + LINK + rest if sep else page + LINK
