"""Scenario samplers: deterministic, JSON round-trippable specs with the family's structure."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pybullet")

from simulate import families  # noqa: E402
from simulate.config import FAMILIES  # noqa: E402
from simulate.families.common import Reject  # noqa: E402
from simulate.pipeline import draw_rng  # noqa: E402
from simulate.scene import SceneSpec  # noqa: E402


def _draw(family: str, config, seed: int) -> SceneSpec:
    for attempt in range(10):
        try:
            return families.get(family).sample_scene(draw_rng(seed, attempt), config)
        except Reject:
            continue
    raise AssertionError("no placement in 10 draws")


@pytest.mark.parametrize("family", FAMILIES)
def test_sampler_is_deterministic_and_round_trips(family, make_config):
    config = make_config("unused")
    a, b = _draw(family, config, 5), _draw(family, config, 5)
    assert a.to_dict() == b.to_dict()
    assert _draw(family, config, 6).to_dict() != a.to_dict()
    text = json.dumps(a.to_dict())
    assert SceneSpec.from_dict(json.loads(text)).to_dict() == a.to_dict()
    assert a.family == family and a.removed_ids
    assert (a.width, a.height, a.num_frames, a.fps) == (32, 32, 8, 12)
    ids = [o.id for o in a.objects]
    assert ids == list(range(1, len(ids) + 1)) and set(a.removed_ids) <= set(ids)


def test_family_structure(make_config):
    config = make_config("unused", frames=48)
    collision = _draw("collision", config, 1)
    assert 3 <= len(collision.objects) <= 7 and 1 <= len(collision.removed_ids) <= 2
    assert all(max(map(abs, collision.object(i).velocity)) > 0 for i in collision.removed_ids)
    carry = _draw("carry", config, 1)
    assert all(carry.object(i).kinematic for i in carry.removed_ids)
    domino = _draw("domino", config, 1)
    assert domino.extras["removed_index"] <= 2 and domino.extras["chain_length"] >= 4
    support = _draw("support", config, 1)
    assert support.extras["layout"] in ("stack", "plank", "shelf")
    occlusion = _draw("occlusion", config, 1)
    assert len(occlusion.removed_ids) == 1 and occlusion.extras["mode"] in ("roll", "throw")
