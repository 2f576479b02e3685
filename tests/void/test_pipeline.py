"""VoidPipeline end to end on a tiny model: pass 1, pass 2, windows, seeds, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from void import quadmask
from void.model import VoidTransformer
from void.model.io import make_scheduler
from void.pipeline import VoidPipeline, mirror_pad_index, temporal_windows, window_weights

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(num_layers=2, num_attention_heads=2, attention_head_dim=16, time_embed_dim=32, text_embed_dim=32)


def _clip(frames=8, h=32, w=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    video = torch.rand(1, frames, 3, h, w, generator=g) * 2 - 1
    mask = np.full((1, frames, h, w), quadmask.KEEP, np.uint8)
    mask[:, :, 8:16, 8:20] = quadmask.REMOVE
    mask[:, :, 8:16, 20:28] = quadmask.AFFECTED
    return video, mask


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    model = VoidTransformer(sample_size=(8, 32, 48), **TINY).eval()
    p = VoidPipeline(model, make_scheduler())
    p.set_progress_bar_config(disable=True)
    return p


def test_pass1_and_pass2_end_to_end(pipe):
    video, mask = _clip()
    out = pipe(video, mask, num_inference_steps=2, pass2=True, generator=torch.Generator().manual_seed(0))
    assert out.videos.shape == video.shape and out.pass1.shape == video.shape
    assert torch.isfinite(out.videos).all() and out.videos.abs().max() <= 1
    assert not torch.equal(out.videos, out.pass1)  # pass 2 sampled again, from warped noise
    one = pipe(video, mask, num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert one.pass1 is None
    assert torch.equal(one.videos, out.pass1)  # pass 1 is the same computation either way


def test_seeded_generators_reproduce(pipe):
    video, mask = _clip()
    run = lambda seed: pipe(video, mask, num_inference_steps=2, pass2=True, generator=torch.Generator().manual_seed(seed)).videos  # noqa: E731
    a, b, c = run(1), run(1), run(2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_long_and_short_videos_keep_their_length(pipe):
    for frames in (3, 21):  # shorter than the working length, and windowed (8-frame windows)
        video, mask = _clip(frames=frames)
        out = pipe(video, mask, num_inference_steps=1, generator=torch.Generator().manual_seed(0))
        assert out.videos.shape == video.shape


def test_windows_cover_and_blend():
    wins = temporal_windows(21, 8, 2)
    assert wins[0][0] == 0 and wins[-1][1] == 21
    assert all(e - s == 8 for s, e in wins)
    assert all(b[0] < a[1] for a, b in zip(wins, wins[1:]))  # consecutive windows overlap
    covered = torch.zeros(21)
    for s, e in wins:
        w = window_weights(s, e, 21, 2)
        assert (w > 0).all() and (w <= 1).all()
        covered[s:e] += w
    assert (covered > 0).all()
    assert temporal_windows(5, 8, 2) == [(0, 5)]
    assert all(s % 2 == 0 for s, _ in temporal_windows(20, 8, 3, multiple=2))


def test_mirror_padding():
    assert list(mirror_pad_index(3, 7)) == [0, 1, 2, 1, 0, 1, 2]
    assert list(mirror_pad_index(1, 3)) == [0, 0, 0]


def test_a_separate_pass2_model_is_used(pipe):
    torch.manual_seed(1)
    other = VoidTransformer(sample_size=(8, 32, 48), **TINY).eval()
    two = VoidPipeline(pipe.transformer, pipe.scheduler, transformer_2=other)
    two.set_progress_bar_config(disable=True)
    video, mask = _clip()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    same = pipe(video, mask, num_inference_steps=2, pass2=True, generator=g())
    sep = two(video, mask, num_inference_steps=2, pass2=True, generator=g())
    assert torch.equal(same.pass1, sep.pass1)
    assert not torch.equal(same.videos, sep.videos)


def test_save_load_gives_identical_samples(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "model", info={"train_steps": 3})
    loaded = VoidPipeline.from_pretrained(tmp_path / "model")
    loaded.set_progress_bar_config(disable=True)
    assert loaded.info["train_steps"] == 3 and loaded.working_size == (8, 32, 48)
    video, mask = _clip()
    a = pipe(video, mask, num_inference_steps=2, pass2=True, generator=torch.Generator().manual_seed(4)).videos
    b = loaded(video, mask, num_inference_steps=2, pass2=True, generator=torch.Generator().manual_seed(4)).videos
    assert torch.equal(a, b)


def test_bad_inputs_are_clear_errors(pipe):
    video, mask = _clip()
    with pytest.raises(ValueError, match="mask shape"):
        pipe(video, mask[:, :4])
    with pytest.raises(ValueError, match="multiples of 8"):
        pipe(video[..., :30], mask[..., :30])


def test_vae_latent_pipeline_runs():
    from void.errors import ConfigError
    from void.model import latents as lat

    torch.manual_seed(0)
    vae = lat.build_vae(lat.TINY_VAE_CONFIG)
    model = VoidTransformer(
        latent="vae", patch_size_t=2, sample_size=(13, 32, 32), **lat.vae_transformer_kwargs(lat.TINY_VAE_CONFIG), **TINY
    ).eval()
    with pytest.raises(ConfigError, match="vae component"):
        VoidPipeline(model, make_scheduler())
    p = VoidPipeline(model, make_scheduler(), vae=vae)
    p.set_progress_bar_config(disable=True)
    video, mask = _clip(frames=10, h=32, w=32)
    out = p(video, mask, num_inference_steps=1, pass2=True, generator=torch.Generator().manual_seed(0))
    assert out.videos.shape == video.shape


def test_prompts_without_a_text_encoder_fall_back_to_the_null_embedding(caplog):
    torch.manual_seed(0)
    model = VoidTransformer(sample_size=(8, 32, 48), use_text=True, **TINY).eval()
    p = VoidPipeline(model, make_scheduler(), text_encoder="/nonexistent")
    p.set_progress_bar_config(disable=True)
    video, mask = _clip()
    with caplog.at_level("WARNING"):
        out = p(video, mask, "a table", num_inference_steps=1, guidance_scale=3.0)
    assert out.videos.shape == video.shape
    assert "null embedding" in caplog.text


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_pipeline_runs_on_cuda_in_bf16():
    torch.manual_seed(0)
    model = torch.nn.Module.to(VoidTransformer(sample_size=(8, 32, 48), **TINY).eval(), device="cuda", dtype=torch.bfloat16)
    p = VoidPipeline(model, make_scheduler())
    p.set_progress_bar_config(disable=True)
    video, mask = _clip(frames=12)
    out = p(video.cuda(), mask, num_inference_steps=2, pass2=True, generator=torch.Generator("cuda").manual_seed(0))
    assert out.videos.shape == video.shape and torch.isfinite(out.videos).all()


class _PerfectDenoiser(torch.nn.Module):
    """Stands in for a perfectly trained network: given the clean latents as its condition,
    returns their true velocity (diffusers' ``get_velocity``, the training target)."""

    config = type("Config", (), {"patch_size_t": None})()
    dtype = torch.float32

    def __init__(self, scheduler):
        super().__init__()
        self.scheduler = scheduler

    def forward(self, x, x0, mask, t, encoder_hidden_states=None):
        abar = self.scheduler.alphas_cumprod[int(t)]
        if abar == 0:  # zero terminal SNR: x_t is pure noise and v = -x0
            return -x0
        eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()
        return self.scheduler.get_velocity(x0, eps, torch.tensor([int(t)]))


@pytest.mark.parametrize("steps", [1, 4, 25])
def test_sampler_inverts_the_training_parameterisation(steps):
    scheduler = make_scheduler()
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(1, 20, 48, 8, 8, generator=g) * 2 - 1
    pipe = VoidPipeline(torch.nn.Identity(), scheduler)
    pipe.set_progress_bar_config(disable=True)
    out = pipe._sample(
        _PerfectDenoiser(scheduler), torch.randn(x0.shape, generator=g), x0, x0, None, None,
        steps=steps, guidance=1.0, window=8, overlap=2, generator=None, desc="",
    )
    assert torch.allclose(out, x0, atol=1e-5)  # windows and blending included
