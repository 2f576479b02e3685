"""The DeepSpeed training loop: real ZeRO-2 steps, checkpoints, export, resume, errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from train import checkpoint
from train.config import TrainConfig
from train.loop import build_model, train
from void.errors import ConfigError, VoidError

from train_helpers import make_config

ROOT = Path(__file__).resolve().parents[2]


def _metrics(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _client_state(ckpt_dir: Path) -> dict:
    return torch.load(ckpt_dir / "mp_rank_00_model_states.pt", map_location="cpu", weights_only=False)


def _exported(run_dir: Path) -> dict[str, torch.Tensor]:
    from void.model.io import load_model_dir

    return load_model_dir(run_dir).transformer.state_dict()


@pytest.fixture(scope="module")
def reference_run(toy_dataset, tmp_path_factory):
    """An uninterrupted 4-step run (ZeRO-2, one process), checkpoints at steps 2 and 4."""
    cfg = make_config(toy_dataset, tmp_path_factory.mktemp("ref") / "run")
    return cfg, train(cfg)


def test_deepspeed_zero2_run_checkpoints_and_exports(reference_run):
    cfg, result = reference_run
    run = Path(cfg.out)
    assert result.steps == 4 and not result.stopped_by_budget
    assert torch.isfinite(torch.tensor(result.final_loss))
    rows = _metrics(run)
    assert [int(r["step"]) for r in rows if r["loss"]] == [1, 2, 3, 4]
    # The rate each step used: linear warm-up over 2 steps (1/2, 2/2), then cosine from the
    # peak towards min_lr_ratio (0.1) over the remaining 2: at half-way 0.1 + 0.9 * 0.5.
    lrs = [float(r["lr"]) for r in rows if r["lr"]]
    assert lrs == pytest.approx([cfg.lr * f for f in (0.5, 1.0, 1.0, 0.55)], rel=1e-5)
    assert [s for s, _ in checkpoint.complete_checkpoints(run)] == [2, 4]
    ckpt = run / "checkpoints" / "step_00000004"
    assert (ckpt / "zero_pp_rank_0_mp_rank_00_optim_states.pt").is_file()  # a ZeRO optimizer shard
    state = _client_state(ckpt)
    assert state["step"] == 4 and state["data_position"] == 4 * cfg.batch_size and state["world_size"] == 1
    assert set(state["rng"]) >= {"python", "numpy", "torch"}
    # The export is the trained weights, loadable with from_pretrained.
    exported = _exported(run)
    trained = state["module"]
    assert exported.keys() == trained.keys()
    assert all(torch.equal(exported[k], trained[k].float()) for k in trained)
    torch.manual_seed(cfg.seed)
    fresh = build_model(cfg).state_dict()
    assert any(not torch.equal(fresh[k], exported[k]) for k in fresh)
    info = json.loads((run / "model" / "void_model.json").read_text())
    assert info["train_steps"] == 4 and info["mask_encoding"] == "quad" and info["sample_size"] == [8, 32, 32]
    val = list(csv.DictReader(open(run / "validation.csv", newline="")))
    assert {r["region"] for r in val} == {"removed", "affected", "keep", "all"} and val[0]["step"] == "4"
    assert (run / "tensorboard").is_dir() and any((run / "tensorboard").iterdir())


def test_vae_latent_run_trains_only_the_transformer_and_exports_the_vae_beside_it(toy_dataset, tmp_path):
    from void.model import latents as lat
    from void.pipeline import VoidPipeline

    from train.loop import build_vae

    model = {"latent": "vae", "num_layers": 1, "num_attention_heads": 4, "attention_head_dim": 16,
             "vae_config": dict(lat.TINY_VAE_CONFIG)}
    cfg = make_config(toy_dataset, tmp_path / "run", model=model, frames=5, steps=2, val_every=2)
    result = train(cfg)
    assert result.steps == 2 and torch.isfinite(torch.tensor(result.final_loss))
    run = Path(cfg.out)
    # DeepSpeed's module is the transformer alone: no VAE weights in its checkpoint
    trained = _client_state(run / "checkpoints" / "step_00000002")["module"]
    assert trained and not any(k.startswith("vae") for k in trained)
    # the export: the VAE in its own folder, untouched by training (frozen)
    assert (run / "model" / "vae" / "config.json").is_file() and (run / "model" / "model_index.json").is_file()
    torch.manual_seed(cfg.seed)
    fresh = build_vae(cfg).state_dict()
    pipe = VoidPipeline.from_pretrained(run)
    assert all(torch.equal(pipe.vae.state_dict()[k], v) for k, v in fresh.items())
    assert all(torch.equal(pipe.transformer.state_dict()[k], v.float()) for k, v in trained.items())
    pipe.set_progress_bar_config(disable=True)
    video = torch.zeros(1, 5, 3, 32, 32)
    mask = torch.full((1, 5, 32, 32), 255, dtype=torch.uint8)
    assert pipe(video, mask, num_inference_steps=1).videos.shape == video.shape


def test_resume_continues_exactly(reference_run, tmp_path):
    cfg, ref = reference_run
    out = tmp_path / "run"
    # Stop after the first step (a time budget that is spent at once): checkpoint + export.
    first = train(make_config(cfg.data, out, time_budget_minutes=1e-5))
    assert first.stopped_by_budget and first.steps == 1
    assert [s for s, _ in checkpoint.complete_checkpoints(out)] == [1]
    # A kill in the middle of a later save leaves a checkpoint without its completion mark.
    partial = out / "checkpoints" / "step_00000003"
    partial.mkdir()
    (partial / "mp_rank_00_model_states.pt").write_bytes(b"truncated")
    with pytest.raises(VoidError, match="--resume"):
        train(make_config(cfg.data, out))
    resumed = train(make_config(cfg.data, out, resume=True))
    assert resumed.start_step == 1 and resumed.steps == 4
    assert resumed.final_loss == ref.final_loss
    ref_rows, rows = _metrics(Path(cfg.out)), _metrics(out)
    assert [r["step"] for r in rows if r["loss"]] == ["1", "2", "3", "4"]
    assert [r["loss"] for r in rows if r["loss"]] == [r["loss"] for r in ref_rows if r["loss"]]
    # The clock continues across the resume instead of starting again at 0.
    walls = [float(r["wall_s"]) for r in rows]
    cpus = [float(r["cpu_s"]) for r in rows]
    assert walls == sorted(walls) and cpus == sorted(cpus) and walls[1] > walls[0]
    ref_w, got_w = _exported(Path(cfg.out)), _exported(out)
    assert all(torch.equal(ref_w[k], got_w[k]) for k in ref_w)
    assert not partial.exists()  # pruned once a newer checkpoint completed
    with pytest.raises(VoidError, match="mask_encoding: quad -> binary-union"):
        train(make_config(cfg.data, out, resume=True, mask_encoding="binary-union"))


def test_two_process_data_parallel_stays_in_sync(toy_dataset, tmp_path):
    out = tmp_path / "dp"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    from train.engine import free_port

    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        "-m", "train", "--data", str(toy_dataset), "--out", str(out), "--steps", "2", "--batch-size", "1",
        "--checkpoint-every", "2", "--val-every", "0", "--val-samples", "1", "--inference-steps", "2",
        "--threads", "1", "--no-progress",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = out / "checkpoints" / "step_00000002"
    state = _client_state(ckpt)
    assert state["world_size"] == 2 and state["data_position"] == 4
    fingerprints = state["param_fingerprints"]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    # ZeRO-2: the optimizer state is sharded, one file per rank.
    assert sorted(p.name for p in ckpt.glob("zero_pp_rank_*_optim_states.pt")) == [
        "zero_pp_rank_0_mp_rank_00_optim_states.pt",
        "zero_pp_rank_1_mp_rank_00_optim_states.pt",
    ]
    assert json.loads((out / "model" / "void_model.json").read_text())["train_steps"] == 2


def test_config_errors(toy_dataset, tmp_path):
    with pytest.raises(ConfigError, match="--data .*no such directory"):
        TrainConfig(data=str(tmp_path / "missing"), out=str(tmp_path / "o"))
    with pytest.raises(ConfigError, match="--steps"):
        TrainConfig(data=str(toy_dataset), out=str(tmp_path / "o"), steps=0)
    with pytest.raises(ConfigError, match="--resolution 30x30"):
        TrainConfig(data=str(toy_dataset), out=str(tmp_path / "o"), resolution="30x30")
    with pytest.raises(ConfigError, match="--zero-stage"):
        TrainConfig(data=str(toy_dataset), out=str(tmp_path / "o"), zero_stage=3)
    with pytest.raises(ConfigError, match="--config"):
        TrainConfig(data=str(toy_dataset), out=str(tmp_path / "o"), config="huge")
    with pytest.raises(ConfigError, match="--val-data"):
        TrainConfig(data=str(toy_dataset), out=str(tmp_path / "o"), val_data=str(tmp_path / "nope"))


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    from void.app.cli import main

    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "void train: error: --data" in err and "Traceback" not in err
    (tmp_path / "notdata").mkdir()
    assert main(["train", "--data", str(tmp_path / "notdata"), "--out", str(tmp_path / "o")]) == 2
    assert "not a dataset directory" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_model(toy_dataset, tmp_path):
    """SIGKILL a CLI run while it writes a checkpoint, resume it, compare with an unbroken run."""
    import signal
    import time

    flags = [
        "--data", str(toy_dataset), "--steps", "8", "--batch-size", "2", "--checkpoint-every", "2",
        "--val-every", "0", "--val-samples", "1", "--inference-steps", "2", "--threads", "1", "--no-progress",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "train", "--out", str(out), *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    target = out / "checkpoints" / "step_00000004"
    deadline = time.monotonic() + 300
    while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    done = checkpoint.latest_checkpoint(out)
    assert done is not None and done[0] in (2, 4)
    resumed = subprocess.run(cmd + ["--resume"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    ref = tmp_path / "ref"
    subprocess.run([sys.executable, "-m", "train", "--out", str(ref), *flags], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=400)
    ref_w, got_w = _exported(ref), _exported(out)
    assert all(torch.equal(ref_w[k], got_w[k]) for k in ref_w)
    assert [r["loss"] for r in _metrics(out) if r["loss"]] == [r["loss"] for r in _metrics(ref) if r["loss"]]
