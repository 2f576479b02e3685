"""Names shared by several packages, defined here once (stdlib only, so config modules can
import them without pulling in numpy or torch).

``tests/void/test_one_home.py`` fails if any other module assigns one of these names.
"""

from __future__ import annotations

# Scoring regions of a quadmask, in the order every table and CSV uses: ``all`` first, then
# the three regions that partition the frame (values in ``void.quadmask.REGIONS``).
REGION_NAMES = ("all", "removed", "affected", "keep")

# How the mask is given to the model: VOID's quadmask, or the two binary ablations.
MASK_ENCODINGS = ("quad", "binary-object", "binary-union")

# Optical flow used to warp pass 2's noise (``void.warped_noise``).
FLOW_METHODS = ("dis", "farneback")

# Where independent tasks run (``void.executors``): a local process pool or a Ray cluster.
EXECUTORS = ("local", "ray")
