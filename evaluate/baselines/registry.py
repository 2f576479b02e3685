"""The baselines behind ``void baseline NAME``, registered once (stdlib only: the CLI lists
the names without loading numpy or OpenCV).

Each entry names a function ``run(job) -> frames`` or ``-> (frames, extra run.json fields)``,
where ``job`` is a :class:`evaluate.baselines.run.Job` (the config, the input sample, its
frames, quadmask, fill mask, fps and a private work folder). Adding a baseline is a module
with that function and one line here.
"""

from __future__ import annotations

import importlib

BASELINES: dict[str, str] = {
    "identity": "evaluate.baselines.classic:run_identity",
    "opencv-inpaint": "evaluate.baselines.classic:run_opencv_inpaint",
    "clean-plate": "evaluate.baselines.classic:run_clean_plate",
    "oracle-hidden": "evaluate.baselines.classic:run_oracle_hidden",
    "command": "evaluate.baselines.command:run_job",
}


def load(name: str):
    """The run function of a registered baseline."""
    module, _, attr = BASELINES[name].partition(":")
    return getattr(importlib.import_module(module), attr)
