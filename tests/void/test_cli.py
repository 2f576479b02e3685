import subprocess
import sys
import time

import argparse
from dataclasses import dataclass, field

import pytest

from void import cliutil
from void.app import cli

HEAVY = ("torch", "bpy", "deepspeed", "diffusers", "pybullet", "streamlit", "ray", "moderngl")


def test_help_is_fast_and_light():
    code = (
        "import sys, io, contextlib\n"
        "from void.app import cli\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try: cli.main(['--help'])\n"
        "    except SystemExit: pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t0
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
    assert elapsed < 20  # generous: only guards against importing a heavy stack at start-up


@pytest.mark.parametrize("name", [c.name for c in cli.COMMANDS])
def test_every_command_has_help(name):
    out = subprocess.run([sys.executable, "-m", "void.app.cli", name, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: void " + name in out.stdout


def test_bad_arguments_fail_with_a_message(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "void.app.cli", "simulate", "--out", str(tmp_path / "d"), "--num-samples", "-3"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "--num-samples must be at least 1" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "void.app.cli", "simulate", "--out", str(tmp_path / "d"), "--families", "collision,nope"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "unknown family nope" in out.stderr


@dataclass
class _Cfg:
    name: str = field(default="", metadata={"positional": True, "required": True})
    items: list[str] = field(default_factory=list, metadata={"positional": True})
    size: tuple[int, int] = field(default=(4, 4), metadata={"parse": lambda t: tuple(int(v) for v in t.split("x"))})
    tags: list[str] = field(default_factory=lambda: ["a"])
    count: int = 3
    rate: float | None = None
    flag: bool = False


def test_cliutil_round_trip():
    parser = argparse.ArgumentParser()
    cliutil.add_arguments(parser, _Cfg)
    cfg = cliutil.build_config(_Cfg, parser.parse_args(["n", "x", "y", "--size", "8x2", "--tags", "p,q", "--count", "5", "--rate", "0.5", "--flag"]))
    assert cfg == _Cfg("n", ["x", "y"], (8, 2), ["p", "q"], 5, 0.5, True)
    assert cliutil.build_config(_Cfg, parser.parse_args(["n"])) == _Cfg("n")
    with pytest.raises(SystemExit):
        parser.parse_args([])


def _void(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "void", *args], capture_output=True, text=True, timeout=120)


def test_a_bad_resolution_says_what_is_expected(tmp_path):
    out = _void("simulate", "--resolution", "32", "--out", str(tmp_path / "d"))
    assert out.returncode == 2
    assert "argument --resolution: must be WxH, width and height in pixels (e.g. 256x256), got '32'" in out.stderr
    assert "invalid" not in out.stderr


def test_help_shows_required_flags_bare_and_sizes_as_wxh():
    usage = _void("evaluate", "--help").stdout
    assert "--data DATA --pred PRED -o OUT" in usage and "[--data" not in usage
    usage = _void("train", "--help").stdout
    assert "--data DATA -o OUT" in usage and "[--data" not in usage
    assert "(default: 256x256)" in _void("simulate", "--help").stdout
    missing = _void("evaluate", "--data", "x")
    assert missing.returncode == 2 and "the following arguments are required: --pred, -o/--out" in missing.stderr
