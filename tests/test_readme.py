"""Every `void ...` command shown in README.md parses with the real command line, and the
launcher lines pass their arguments to a parser that accepts them. (What each command does
is tested by the stage's own tests and by the quickstart end-to-end test.)"""

import re
import shlex
from pathlib import Path

import pytest

from void.app import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#") or "..." in line:
                continue
            for part in line.split("&&"):
                words = shlex.split(part)
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # environment assignments
                if words:
                    lines.append(words)
    return lines


def _void_args(words: list[str]) -> list[str] | None:
    if words[0] == "void":
        return words[1:]
    if words[0] in ("deepspeed", "torchrun") and ("train" in words):
        i = words.index("train")
        return ["train"] + words[i + 1 :]
    return None


COMMANDS = [w for w in _commands() if _void_args(w) is not None]


def test_readme_shows_the_main_commands():
    shown = {_void_args(w)[0] for w in COMMANDS}
    assert {"quickstart", "simulate", "check", "preview", "train", "infer", "baseline", "evaluate", "study", "leaderboard"} <= shown


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w)[:60] for w in COMMANDS])
def test_readme_command_parses(words):
    args = _void_args(words)
    cmd = {c.name: c for c in cli.COMMANDS}[args[0]]
    parser = cli._command_parser(cmd, f"void {cmd.name}")
    parser.parse_args(args[1:])  # argparse exits (fails the test) on an unknown flag
