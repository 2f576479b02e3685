"""VOID's released layout under ``--void-parity``: decoding, loading flags, memory options, and the
whole command on VOID's sample sequence with a tiny stand-in checkpoint in VOID's layout."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from void import formats, video
from void.app.cli import main
from void.errors import ConfigError
from void.model import latents as lat
from void.model import void_compat
from void.pipeline import VoidPipeline

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("latent_frames", [4, 5])
def test_first_latent_frame_is_decoded_on_its_own(latent_frames):
    torch.manual_seed(0)
    vae = lat.build_vae()
    z = torch.randn(1, latent_frames, 4, 6, 8)
    got = lat.vae_decode_first_apart(vae, z)
    assert got.shape[1] == 4 * (latent_frames - 1) + 1
    # frame 0 is exactly what the VAE gives for latent frame 0 alone
    alone = vae.decode((z[:, :1] / vae.config.scaling_factor).permute(0, 2, 1, 3, 4)).sample.permute(0, 2, 1, 3, 4)
    assert alone.shape[1] == 1
    assert torch.equal(got[:, 0], alone[:, 0])
    # our default decode (a duplicate frame in front for even counts) differs there
    if latent_frames % 2 == 0:
        assert not torch.allclose(lat.vae_decode(vae, z)[:, 0], alone[:, 0], atol=1e-3)


def test_base_and_pass1_flags_and_pass2_only_when_used(void_layout, tmp_path):
    elsewhere = tmp_path / "weights"
    elsewhere.mkdir()
    shutil.copy(void_layout / "void_pass1.safetensors", elsewhere / "mine.safetensors")
    base = void_layout / void_compat.BASE_DIR_NAME
    pipe = VoidPipeline.from_pretrained(None, base=base, pass1=elsewhere / "mine.safetensors", load_pass2=False)
    assert pipe.transformer_2 is None and pipe.info["pass1_checkpoint"] == str(elsewhere / "mine.safetensors")
    assert pipe.info["pass2_checkpoint"] is None
    pipe2 = VoidPipeline.from_pretrained(void_layout, load_pass2=True)
    assert pipe2.transformer_2 is not None
    with pytest.raises(ConfigError, match="--base .*not a CogVideoX-Fun base"):
        VoidPipeline.from_pretrained(None, base=tmp_path, pass1=elsewhere / "mine.safetensors")
    with pytest.raises(ConfigError, match="--pass1 .*no such file"):
        VoidPipeline.from_pretrained(None, base=base, pass1=tmp_path / "none.safetensors")


def test_key_mismatch_report_names_the_keys_and_why(void_layout, tmp_path):
    state = load_file(str(void_layout / "void_pass1.safetensors"))
    state.pop("norm_final.weight")
    state["vae.extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.safetensors"
    save_file(state, str(bad))
    with pytest.raises(ConfigError) as exc:
        VoidPipeline.from_pretrained(None, base=void_layout / void_compat.BASE_DIR_NAME, pass1=bad, load_pass2=False)
    msg = str(exc.value)
    assert "missing 1 key(s): norm_final.weight" in msg
    assert "unexpected 1 key(s): vae.extra.weight" in msg and "another component" in msg
    assert "strict=False" in msg


def test_pipeline_storage_rejects_unknown_keyword_arguments(tiny_model_dir, tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword arguments: safe_serialization"):
        VoidPipeline.from_pretrained(tiny_model_dir, safe_serialization=True)
    pipe = VoidPipeline.from_pretrained(tiny_model_dir)
    with pytest.raises(TypeError, match="unexpected keyword arguments: push_to_hub"):
        pipe.save_pretrained(tmp_path / "m", push_to_hub=True)


def _run(pipe, clip, mask):
    return pipe(clip, mask, "", num_inference_steps=2, generator=torch.Generator().manual_seed(0)).videos


def test_offload_modes_compute_the_same_and_fp8_stays_close(tiny_model_dir):
    g = torch.Generator().manual_seed(1)
    clip = torch.rand(1, 8, 3, 32, 48, generator=g) * 2 - 1
    mask = torch.full((1, 8, 32, 48), 255, dtype=torch.uint8)
    mask[:, :, 8:20, 8:24] = 0
    ref = _run(VoidPipeline.from_pretrained(tiny_model_dir, device="cpu"), clip, mask)
    for offload in ("model", "sequential"):
        pipe = VoidPipeline.from_pretrained(tiny_model_dir, device="cpu")
        pipe.configure_memory("cpu", offload=offload)
        assert torch.allclose(_run(pipe, clip, mask), ref, atol=1e-5), offload
    pipe = VoidPipeline.from_pretrained(tiny_model_dir, device="cpu")
    pipe.configure_memory("cpu", weights="fp8")
    stored = {p.dtype for n, p in pipe.transformer.named_parameters() if "transformer_blocks" in n and n.endswith("weight")}
    assert torch.float8_e4m3fn in stored
    out = _run(pipe, clip, mask)
    assert not torch.equal(out, ref) and (out - ref).abs().mean() < 0.1


def test_offload_modes_move_the_vae_component_too(void_layout):
    """The VAE is a component beside the transformers: offloading handles it on its own and
    the result does not change; fp8 storage leaves it in full precision."""
    g = torch.Generator().manual_seed(1)
    clip = torch.rand(1, 9, 3, 32, 32, generator=g) * 2 - 1
    mask = torch.full((1, 9, 32, 32), 255, dtype=torch.uint8)
    mask[:, :, 8:20, 8:24] = 0
    ref = _run(VoidPipeline.from_pretrained(void_layout, load_pass2=False), clip, mask)
    for offload in ("model", "sequential"):
        pipe = VoidPipeline.from_pretrained(void_layout, load_pass2=False)
        pipe.configure_memory("cpu", offload=offload, weights="fp8" if offload == "model" else "auto")
        out = _run(pipe, clip, mask)
        if offload == "sequential":
            assert torch.allclose(out, ref, atol=1e-5)
        assert {p.dtype for p in pipe.vae.parameters()} == {torch.float32}


def test_void_parity_pass2_end_to_end_on_voids_sample(void_layout, void_samples, tmp_path, capsys):
    pred = tmp_path / "pred"
    argv = ["infer", "--void-parity", "--pass2", "--model", str(void_layout), "--input", str(void_samples),
            "--out", str(pred), "--height", "32", "--width", "64", "--steps", "2", "--pass2-steps", "2",
            "--noise-warp-scale", "1", "--device", "cpu", "--no-progress"]
    assert main(argv) == 0, capsys.readouterr().err
    out = formats.prediction_path(pred, "void", "BigBen")
    info, src = video.video_info(out), video.video_info(void_samples / "BigBen" / "input_video.mp4")
    assert (info.width, info.height, info.num_frames) == (src.width, src.height, src.num_frames)
    run = formats.read_run_json(pred, "void")
    card = run["card"]
    assert card["name"] == "VOID" and card["recipe"] == "void-parity" and card["passes"] == 2
    assert card["guidance"] == [1.0, 6.0] and card["steps"] == [2, 2] and card["pass2_noise"] == "gwf"
    assert card["weights"]["pass2"].endswith("void_pass2.safetensors")
    # 50 input frames -> VOID pads to 85 (22 latent frames) at the working size
    assert run["samples"]["BigBen"]["working_size"] == [85, 32, 64]


def test_vae_and_text_encoder_belong_to_the_pipeline_not_the_transformer_config(void_layout):
    pipe = VoidPipeline.from_pretrained(void_layout)
    for model in (pipe.transformer, pipe.transformer_2):
        cfg = dict(model.config)
        assert not {"vae_path", "vae_config", "text_encoder_path"} & set(cfg)
        assert cfg["vae_latent_channels"] == 4  # what it needs to know of the VAE, not the VAE
        assert not any(name.startswith("vae") for name, _ in model.named_modules() if name)
    assert pipe.components["vae"] is pipe.vae and pipe.vae is not None  # one VAE for both passes
    assert pipe.text_encoder_path == str(void_layout / void_compat.BASE_DIR_NAME)
