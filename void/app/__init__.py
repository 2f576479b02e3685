"""The application layer: the ``void`` command line and the quickstart.

These are the only modules of ``void`` that may import the stages (``simulate``, ``train``,
``evaluate``, ``leaderboard``); the rest of ``void`` is the core, which knows no stage.
"""
