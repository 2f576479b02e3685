"""``void export``: a dataset directory as WebDataset tar shards or a Hugging Face datasets folder.

    void export data/train --format webdataset --out shards/      # shards/train-000000.tar ...
    void export data/train --format hf --out hf/                   # datasets.load_dataset("hf/")

For training that outgrows one disk of mp4 folders. Every sample keeps its files' bytes, so
nothing is re-encoded and masks stay exact: the lossless quadmask (``mask.mp4``), the
lossless RGB (``rgb_*.mkv``), ``metadata.json``, ``trajectories.npz`` and the caption.
:func:`decode` turns a field back into the arrays the dataset reader gives (bit-for-bit).

WebDataset: one tar entry ``<sample_id>.<field>`` per field (webdataset's key/extension rule,
so sample ids must not contain dots). Hugging Face: parquet shards ``data/<split>-NNNNN-of-
MMMMM.parquet`` (one row per sample, a binary column per file) and a README whose YAML header
tells ``datasets.load_dataset`` where they are. Shards are written atomically and ``index.json``
last; a rerun rewrites the folder.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from void import atomic, formats, video
from void.config import ExportConfig
from void.deps import require
from void.errors import VoidError

INDEX = "index.json"
EXPORT_FORMAT = "void-bench-export"
# field name -> file inside a sample directory
FILES = {
    "rgb_full.mkv": formats.LOSSLESS["full"],
    "rgb_removed.mkv": formats.LOSSLESS["removed"],
    "rgb_hidden.mkv": formats.LOSSLESS["hidden"],
    "mask.mp4": formats.MASK,
    "metadata.json": formats.METADATA,
    "trajectories.npz": formats.TRAJECTORIES,
}
OPTIONAL = ("trajectories.npz",)  # VOID-style datasets may lack it
TEXT = "txt"  # the caption; webdataset decodes .txt as text
HF_COLUMNS = ("sample_id", "family", "caption", *(k.replace(".", "_") for k in FILES))


class ExportError(VoidError, ValueError):
    """A dataset that cannot be exported as asked; the message names the sample."""


def sample_fields(ref: formats.SampleRef) -> dict[str, bytes]:
    """The bytes of every exported file of one sample, and its caption."""
    out = {}
    for name, rel in FILES.items():
        path = ref.root / rel
        if not path.is_file() and name in OPTIONAL:
            continue
        if not path.is_file():
            raise ExportError(f"{path}: missing; export needs the lossless files of a dataset written by `void simulate`")
        out[name] = path.read_bytes()
    out[TEXT] = ref.caption().encode()
    return out


def decode(name: str, data: bytes) -> Any:
    """A field's bytes back to what the dataset reader gives: ``(T, H, W, 3)`` / ``(T, H, W)``
    uint8 for videos (``mask*`` as the quadmask), dict for JSON and npz, str for text."""
    name = name.replace("_mkv", ".mkv").replace("_mp4", ".mp4").replace("_json", ".json").replace("_npz", ".npz")
    if name.endswith((".mkv", ".mp4")):
        with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as tmp:
            tmp.write(data)
            tmp.flush()
            return video.read_mask(tmp.name, strict=True) if name.startswith("mask") else video.read_video(tmp.name)
    if name.endswith(".json"):
        return json.loads(data)
    if name.endswith(".npz"):
        with np.load(io.BytesIO(data)) as z:
            return {k: z[k] for k in z.files}
    return data.decode() if isinstance(data, (bytes, bytearray)) else data


def _shards(ids: list[str], per_shard: int) -> list[list[str]]:
    return [ids[i:i + per_shard] for i in range(0, len(ids), per_shard)]


def _write_webdataset(ds: formats.Dataset, out: Path, split: str, groups: list[list[str]], progress) -> list[dict]:
    wds = require("webdataset")
    shards = []
    for n, ids in enumerate(groups):
        name = f"{split}-{n:06d}.tar"
        with atomic.atomic_path(out / name) as tmp:
            with wds.TarWriter(str(tmp)) as sink:
                for sid in ids:
                    sink.write({"__key__": sid, **sample_fields(ds.sample(sid))})
                    progress(1)
        shards.append({"file": name, "samples": len(ids)})
    return shards


def _write_hf(ds: formats.Dataset, out: Path, split: str, groups: list[list[str]], progress) -> list[dict]:
    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    schema = pa.schema(
        [(c, pa.string()) for c in HF_COLUMNS[:3]] + [(c, pa.binary()) for c in HF_COLUMNS[3:]]
    )
    shards = []
    for n, ids in enumerate(groups):
        name = f"data/{split}-{n:05d}-of-{len(groups):05d}.parquet"
        rows = {c: [] for c in HF_COLUMNS}
        for sid in ids:
            ref = ds.sample(sid)
            fields = sample_fields(ref)
            rows["sample_id"].append(sid)
            rows["family"].append(ref.family())
            rows["caption"].append(fields[TEXT].decode())
            for key in FILES:
                rows[key.replace(".", "_")].append(fields.get(key))
            progress(1)
        with atomic.atomic_path(out / name) as tmp:
            pq.write_table(pa.table(rows, schema=schema), tmp)
        shards.append({"file": name, "samples": len(ids)})
    atomic.write_text(out / "README.md", _hf_card(ds, split))
    return shards


def _hf_card(ds: formats.Dataset, split: str) -> str:
    return f"""---
configs:
- config_name: default
  data_files:
  - split: {split}
    path: data/{split}-*.parquet
---
# {ds.name} (void-bench export)

One row per sample: `sample_id`, `family`, `caption`, and the bytes of each file:
`rgb_full_mkv`, `rgb_removed_mkv`, `rgb_hidden_mkv` (lossless RGB), `mask_mp4` (lossless
quadmask: 0 remove, 63 overlap, 127 affected, 255 keep), `metadata_json`, `trajectories_npz`.
Decode a video column with `void.export.decode(column_name, value)`.
"""


def export(config: ExportConfig) -> int:
    start = time.perf_counter()
    ds = formats.Dataset(config.dataset)
    if not ds.header:
        raise ExportError(f"{ds.root}: no {formats.HEADER}; export reads datasets written by `void simulate` (with lossless RGB)")
    ids = ds.sample_ids()
    if not ids:
        raise ExportError(f"{ds.root}: the dataset lists no samples")
    if config.format == "webdataset":
        dotted = [s for s in ids if "." in s]
        if dotted:
            raise ExportError(f"sample id {dotted[0]!r} contains a dot: WebDataset splits keys at the first dot")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    split = ds.split()
    groups = _shards(ids, config.samples_per_shard)
    from tqdm import tqdm

    with tqdm(total=len(ids), desc="export", unit="sample", disable=not config.progress, file=sys.stderr) as bar:
        writer = _write_webdataset if config.format == "webdataset" else _write_hf
        shards = writer(ds, out, split, groups, bar.update)
    atomic.write_json(out / INDEX, {
        "format": EXPORT_FORMAT,
        "export_format": config.format,
        "dataset": ds.name,
        "dataset_header": {k: ds.header.get(k) for k in ("format", "format_version", "generator", "split", "seed")},
        "split": split,
        "fields": [*FILES, TEXT] if config.format == "webdataset" else list(HF_COLUMNS),
        "samples": len(ids),
        "shards": shards,
    })
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"export: {len(ids)} samples of {ds.root} as {config.format} in {len(shards)} shard(s), "
          f"{size / 1e6:.1f} MB in {out}, {time.perf_counter() - start:.1f} s")
    return 0
