"""``void study init`` and ``void study serve``: create a study database, run the app.

    void study init --config study.yaml --db sqlite:///study.db
    VOID_STUDY_ADMIN_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe())') \\
        void study serve --db sqlite:///study.db --port 8501

Both bring the schema to the newest migration first, so a study created by an older
version of the tool keeps its votes and carries on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from evaluate.study.config import ADMIN_ENV, DB_ENV, StudyInitConfig, StudyServeConfig
from void import deps
from void.errors import ConfigError

APP = Path(__file__).resolve().parent / "app.py"
# Browsers play these in <video>; anything else would show a blank player in the study.
PLAYABLE_CODECS = ("h264", "vp8", "vp9", "av1")


def _probe(path: str) -> dict[str, Any]:
    """Size, frame rate, frame count and codec of one video; ConfigError naming it if unreadable."""
    # imageio-ffmpeg directly rather than void.video.video_info: that one drops the codec
    # name, and a third ffmpeg start per video adds up over a study's hundreds of files.
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(path)
        meta = next(reader)
        reader.close()
        num_frames, _ = imageio_ffmpeg.count_frames_and_secs(path)
    except (RuntimeError, OSError, StopIteration, KeyError) as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: unreadable video ({last})") from None
    width, height = meta["size"]
    codec = str(meta.get("codec", "")).split(" ")[0]
    return {"width": int(width), "height": int(height), "fps": float(meta.get("fps") or 0.0),
            "num_frames": int(num_frames), "codec": codec}


def check_videos(study) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Probe every video of the study: per-sample source metadata and a list of warnings."""
    meta: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for s in study.samples:
        src = _probe(s.source)
        meta[s.sample_id] = {k: src[k] for k in ("width", "height", "fps", "num_frames")}
        for path, info in [(s.source, src)] + [(p, _probe(p)) for p in s.videos.values()]:
            if info["codec"] not in PLAYABLE_CODECS:
                warnings.append(f"{path}: codec {info['codec'] or 'unknown'} may not play in browsers (use H.264 mp4)")
            if path != s.source and info["num_frames"] != src["num_frames"]:
                warnings.append(f"{path}: {info['num_frames']} frames, the source has {src['num_frames']} (playback drifts)")
    return meta, warnings


def init_study(config: StudyInitConfig) -> int:
    """Validate the study config, probe its videos and store the study in the database."""
    for module in ("sqlalchemy", "alembic", "yaml"):
        deps.require(module)
    from evaluate.study import design
    from evaluate.study.store import open_store

    study = design.load(config.config)
    meta, warnings = check_videos(study) if config.check_videos else ({}, [])
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    items = design.build_items(study)
    with open_store(config.db) as store:
        created = store.create_study(study, meta)
        url = store.url
    n_main = sum(1 for i in items if i.kind == "main")
    state = "created" if created else "already initialised (unchanged)"
    print(
        f"study {study.name!r} {state} in {config.db}\n"
        f"  design {study.design}: {len(study.studied)} methods ({', '.join(study.studied)}), "
        f"{len(study.samples)} samples, {n_main} comparisons, {len(items) - n_main} gold comparisons\n"
        f"  each participant: {study.trials_per_participant} trials + {study.gold_trials} gold\n"
        + (f"  repeated comparisons: {study.repeat_share:.0%} of each participant's trials, until {study.repeat_raters} raters each\n"
           if study.repeat_raters else "")
        + f"  object outline on the Original: {sum(bool(s.mask) for s in study.samples) if study.show_mask else 0} of {len(study.samples)} samples\n"
        + f"serve it with: void study serve --db {url if url.startswith('sqlite') else config.db}"
    )
    return 0


def streamlit_command(db_url: str, port: int, address: str = "127.0.0.1") -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that serve the study app."""
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]
    env = dict(os.environ)
    env[DB_ENV] = db_url
    return argv, env


def serve(config: StudyServeConfig) -> int:
    """Run the study app with Streamlit on ``address:port`` until interrupted."""
    for module in ("streamlit", "sqlalchemy", "alembic"):
        deps.require(module)
    from evaluate.study.store import open_store

    with open_store(config.db) as store:
        study = store.definition()  # fails clearly when `init` has not run
        url = store.url
    argv, env = streamlit_command(url, config.port, config.address)
    print(f"study {study.name!r}: http://{config.address}:{config.port}/  (participants)")
    if env.get(ADMIN_ENV):
        print(f"admin page: http://{config.address}:{config.port}/?admin=1  (asks for {ADMIN_ENV})")
    else:
        print(f"admin page disabled: set {ADMIN_ENV} to a long random secret to enable ?admin=1")
    sys.stdout.flush()
    # Become the Streamlit server rather than wait on it: a SIGTERM from a supervisor then
    # reaches the server itself instead of leaving it orphaned behind a dead parent.
    os.execve(argv[0], argv, env)
    return 0  # not reached
