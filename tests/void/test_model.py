"""VoidTransformer: shapes, channel layout, latents, save/load round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from void import quadmask
from void.errors import ConfigError
from void.model import VoidTransformer
from void.model import io as model_io
from void.model import latents as lat

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(num_layers=2, num_attention_heads=2, attention_head_dim=16, time_embed_dim=32, text_embed_dim=32)


def _inputs(b=2, t=8, h=32, w=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    video = torch.rand(b, t, 3, h, w, generator=g) * 2 - 1
    rng = np.random.default_rng(seed)
    mask = torch.from_numpy(rng.choice(np.array(quadmask.VALUES, np.uint8), size=(b, t, h, w)))
    return video, mask


@pytest.mark.parametrize("encoding", quadmask.MASK_ENCODINGS)
def test_forward_backward_shapes_every_mask_encoding(encoding):
    torch.manual_seed(0)
    model = VoidTransformer(mask_encoding=encoding, **TINY)
    video, mask = _inputs()
    latents = model.encode_video(video)
    mask_latents = model.encode_mask(mask)
    p = model.config.patch_pixels
    assert latents.shape == (2, 8, 3 * p * p, 32 // p, 32 // p)
    assert mask_latents.shape == (2, 8, quadmask.encoding_channels(encoding) * p * p, 32 // p, 32 // p)
    assert model.in_channels == 2 * 3 * p * p + quadmask.encoding_channels(encoding) * p * p
    noisy = torch.randn_like(latents)
    out = model(noisy, latents, mask_latents, torch.tensor([3, 900]))
    assert out.shape == latents.shape
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.patch_embed.proj.weight.grad.abs().sum() > 0
    assert model.null_text.grad.abs().sum() > 0  # the null embedding is learned


def test_mask_latents_carry_the_encoding():
    model = VoidTransformer(mask_encoding="quad", **TINY)
    _, mask = _inputs(b=1)
    image = model.mask_channels_image(mask)
    expected = torch.from_numpy(quadmask.encode(mask.numpy(), "quad")).permute(0, 1, 4, 2, 3)
    assert torch.equal(image, expected)
    # pixel latents are a lossless rearrangement of those channels
    assert torch.equal(lat.pixel_shuffle(model.encode_mask(mask), 4), expected)


@pytest.mark.parametrize("pt", [1, 2])
def test_pixel_latents_exact_and_match_torch_pixel_unshuffle(pt):
    video, _ = _inputs(b=2, t=4)
    z = lat.pixel_unshuffle(video, 4, pt)
    assert z.shape == (2, 4 // pt, 3 * 16 * pt, 8, 8)
    assert torch.equal(lat.pixel_shuffle(z, 4, pt), video)
    if pt == 1:  # independent reference: torch's own space-to-depth, frame by frame
        ref = F.pixel_unshuffle(video.flatten(0, 1), 4).unflatten(0, (2, 4))
        assert torch.equal(z, ref)
    model = VoidTransformer(patch_frames=pt, **TINY)
    assert torch.equal(model.decode_latents(model.encode_video(video)), video)


def test_pixel_latents_reject_bad_sizes():
    with pytest.raises(ValueError, match="divisible"):
        lat.pixel_unshuffle(torch.zeros(1, 3, 3, 30, 32), 4)


def test_rejects_bad_config():
    with pytest.raises(ConfigError, match="latent"):
        VoidTransformer(latent="rgb")
    with pytest.raises(ConfigError, match="mask_encoding"):
        VoidTransformer(mask_encoding="tri")
    with pytest.raises(ConfigError, match="sample_size"):
        VoidTransformer(sample_size=(8, 30, 32))


def test_channel_mismatch_is_a_clear_error():
    model = VoidTransformer(**TINY)
    z = torch.zeros(1, 8, 48, 8, 8)
    with pytest.raises(ValueError, match="channel mismatch"):
        model(z, z, torch.zeros(1, 8, 5, 8, 8), 1)


def test_save_load_round_trip_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = VoidTransformer(mask_encoding="binary-object", patch_size_t=2, sample_size=(8, 32, 48), **TINY).eval()
    model.save_pretrained(tmp_path / "m")
    loaded = VoidTransformer.from_pretrained(tmp_path / "m").eval()
    assert dict(loaded.config)["mask_encoding"] == "binary-object"
    assert list(loaded.config.sample_size) == [8, 32, 48]
    video, mask = _inputs(b=1, w=48)
    noisy = torch.randn(1, 8, 48, 8, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        a = model(noisy, model.encode_video(video), model.encode_mask(mask), 500)
        b = loaded(noisy, loaded.encode_video(video), loaded.encode_mask(mask), 500)
    assert torch.equal(a, b)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    model = VoidTransformer(**TINY)
    video, mask = _inputs(b=1)
    z, m = model.encode_video(video), model.encode_mask(mask)
    noisy = torch.randn_like(z)

    def grads():
        model.zero_grad()
        model(noisy, z, m, 10).square().mean().backward()
        return [p.grad.clone() for p in model.parameters()]

    plain = grads()
    model.enable_gradient_checkpointing()
    ckpt = grads()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain, ckpt))


def _tiny_vae_model():
    torch.manual_seed(0)
    vae = lat.build_vae(lat.TINY_VAE_CONFIG)
    kwargs = lat.vae_transformer_kwargs(lat.TINY_VAE_CONFIG)
    return vae, VoidTransformer(latent="vae", sample_size=(9, 32, 32), **kwargs, **TINY).eval()


def test_vae_latent_model_round_trip_keeps_the_vae_out_of_the_transformer(tmp_path):
    vae, model = _tiny_vae_model()
    assert model.latent_channels == lat.TINY_VAE_CONFIG["latent_channels"]
    assert model.in_channels == 3 * model.latent_channels  # noisy | video | VAE-encoded mask
    assert not any(name.startswith("vae") for name, _ in model.named_modules() if name)
    video, mask = _inputs(b=1, t=9)
    z, m = model.encode_video(video, vae=vae), model.encode_mask(mask, vae=vae)
    assert z.shape == m.shape == (1, 3, 4, 8, 8)
    assert torch.equal(z, lat.vae_encode(vae, video))  # the VAE it is given, nothing of its own
    assert model.decode_latents(z, vae=vae).shape == video.shape
    with pytest.raises(ConfigError, match="needs the VAE"):
        model.encode_video(video)
    model.save_pretrained(tmp_path / "vae_model")
    saved = json.loads((tmp_path / "vae_model" / "config.json").read_text())
    assert saved["vae_latent_channels"] == 4 and saved["vae_spatial_compression"] == 4
    assert not {"vae_config", "vae_path", "text_encoder_path"} & set(saved)
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "vae_model" / "diffusion_pytorch_model.safetensors"))
    assert not any(k.startswith("vae.") for k in weights)  # the VAE's weights are not the transformer's
    loaded = VoidTransformer.from_pretrained(tmp_path / "vae_model").eval()
    noisy = torch.randn_like(z)
    with torch.no_grad():
        assert torch.equal(model(noisy, z, m, 7), loaded(noisy, z, m, 7))


def test_model_dir_saves_the_vae_as_its_own_component(tmp_path):
    vae, model = _tiny_vae_model()
    with pytest.raises(ConfigError, match="needs its VAE"):
        model_io.save_model_dir(tmp_path / "no_vae", model)
    model_io.save_model_dir(tmp_path / "m", model, vae=vae, text_encoder="/models/t5")
    index = json.loads((tmp_path / "m" / model_io.MODEL_INDEX_JSON).read_text())
    assert index["vae"] == ["diffusers", "AutoencoderKLCogVideoX"]
    assert index["transformer"] == ["void.model", "VoidTransformer"]
    assert index["text_encoder"]["path"] == "/models/t5"
    assert (tmp_path / "m" / "vae" / "config.json").is_file()
    loaded = model_io.load_model_dir(tmp_path / "m")
    assert loaded.text_encoder == "/models/t5"
    video, _ = _inputs(b=1, t=9)
    assert torch.equal(lat.vae_encode(loaded.vae, video), lat.vae_encode(vae, video))


@pytest.mark.parametrize("frames", [5, 9, 13])
def test_vae_decode_gives_the_encoded_frame_count(frames):
    torch.manual_seed(0)
    vae = lat.build_vae(lat.TINY_VAE_CONFIG)
    video, _ = _inputs(b=1, t=frames)
    z = lat.vae_encode(vae, video)
    assert z.shape[1] == (frames - 1) // 4 + 1
    assert lat.vae_decode(vae, z).shape == video.shape
    assert lat.vae_valid_frames(frames, 4, multiple=2) in (frames, frames + 4)
    assert (lat.vae_valid_frames(frames, 4, multiple=2) - 1) // 4 % 2 == 1


def test_model_dir_round_trip_and_run_dir_resolution(tmp_path):
    torch.manual_seed(0)
    model = VoidTransformer(**TINY)
    run = tmp_path / "run"
    model_io.save_model_dir(run / "model", model, info={"train_steps": 12})
    info = model_io.read_model_info(run / "model")
    assert info["mask_encoding"] == "quad" and info["latent"] == "pixel"
    assert info["sample_size"] == [8, 32, 32] and info["train_steps"] == 12
    assert model_io.resolve_model_dir(run) == run / "model"
    loaded = model_io.load_model_dir(run)
    assert loaded.scheduler.config.prediction_type == "v_prediction"
    assert loaded.transformer_2 is None
    with pytest.raises(model_io.ModelDirError, match="not found"):
        model_io.resolve_model_dir(tmp_path / "nope")
    with pytest.raises(model_io.ModelDirError, match="no model here"):
        model_io.resolve_model_dir(tmp_path)


def test_text_encoder_is_optional_and_never_downloaded(tmp_path, caplog):
    from void.deps import available
    from void.model.text import TextEncoderUnavailable, load_text_encoder

    assert load_text_encoder(None, 8) is None
    assert load_text_encoder(tmp_path, 8) is None  # no encoder on disk: the null embedding is used
    if available("transformers"):
        pytest.skip("transformers is installed; the fallback below needs it absent")
    (tmp_path / "text_encoder").mkdir()
    (tmp_path / "text_encoder" / "config.json").write_text("{}")
    with caplog.at_level("WARNING"):
        assert load_text_encoder(tmp_path, 8) is None
    assert "transformers" in caplog.text and str(tmp_path) in caplog.text
    with pytest.raises(TextEncoderUnavailable, match="pip install transformers"):
        load_text_encoder(tmp_path, 8, required=True)  # a model trained with prompts must not lose them


def test_run_model_export_follows_the_umask_and_shares_the_folder_names(tmp_path):
    import os
    import stat

    from train import checkpoint

    assert (checkpoint.MODEL_DIR, checkpoint.CHECKPOINTS) == (model_io.RUN_MODEL_DIR, model_io.RUN_CHECKPOINTS_DIR)
    model = VoidTransformer(sample_size=(8, 32, 32), **TINY)
    old = os.umask(0o027)
    try:
        out = checkpoint.export_model(tmp_path, model, model_io.make_scheduler(), {"train_steps": 0})
    finally:
        os.umask(old)
    assert out == tmp_path / model_io.RUN_MODEL_DIR
    assert stat.S_IMODE(out.stat().st_mode) == 0o750  # 0777 less the umask, not mkdtemp's 0700
    assert model_io.resolve_model_dir(tmp_path) == out
