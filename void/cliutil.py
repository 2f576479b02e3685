"""Build an argparse parser from a stage's config dataclass, and parse back into it.

The config dataclass is the single description of a stage's options: each field becomes a
flag (``num_samples`` -> ``--num-samples``) with its default, and the field's ``metadata``
refines it:

``help``        help text
``flag``        a different flag name (``"--out"``), or ``short`` for an extra ``"-o"``
``positional``  a positional argument (lists take ``*`` or, with ``required``, ``+``)
``choices``     allowed values (checked by argparse, listed in ``--help``)
``parse``       a callable turning the command-line string into the field's value (its
                ``ValueError`` message is what the user sees)
``show``        a callable turning the default into the text ``--help`` prints
``required``    the flag must be given on the command line (the field keeps a default
                so the Python API can still check it and name it in its own error)
``cli``         ``False`` hides the field from the command line
``nargs``       for a list flag: take space-separated values (``"+"``) instead of a comma list

Lists given as flags are comma separated (``--families collision,support``); booleans get
``--x/--no-x``.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _scalar_parser(tp: Any):
    if tp in (int, float, str):
        return tp
    return str


def _comma_list(item_type):
    def parse(text: str):
        return [item_type(x.strip()) for x in text.split(",") if x.strip()]

    return parse


def _user_parser(parse, flag: str):
    """Let argparse print the parser's own message instead of "invalid <name> value"."""

    def wrapped(text: str):
        try:
            return parse(text)
        except (ValueError, TypeError) as exc:
            message = str(exc) or f"invalid value {text!r}"
            # argparse already starts the line with "argument --flag:"
            raise argparse.ArgumentTypeError(message.removeprefix(f"{flag} ")) from None

    wrapped.__name__ = getattr(parse, "__name__", "value")
    return wrapped


def add_arguments(parser: argparse.ArgumentParser, config_cls: type) -> None:
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        meta = f.metadata
        if not f.init or meta.get("cli", True) is False:
            continue
        tp, optional = _unwrap_optional(hints[f.name])
        origin = typing.get_origin(tp)
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        kwargs: dict[str, Any] = {"help": meta.get("help", "")}
        if "choices" in meta:
            kwargs["choices"] = meta["choices"]
        is_list = origin in (list, tuple) and "parse" not in meta
        item_type = _scalar_parser(typing.get_args(tp)[0]) if is_list and typing.get_args(tp) else str

        if meta.get("positional"):
            if is_list:
                kwargs["nargs"] = "+" if meta.get("required") else "*"
                kwargs["type"] = item_type
            else:
                kwargs["type"] = meta.get("parse", _scalar_parser(tp))
                if has_default and not meta.get("required"):
                    kwargs["nargs"] = "?"
            if has_default and not meta.get("required"):
                kwargs["default"] = default
            parser.add_argument(f.name, metavar=meta.get("metavar", f.name.upper()), **kwargs)
            continue

        flags = [meta.get("flag", "--" + f.name.replace("_", "-"))]
        if "short" in meta:
            flags.insert(0, meta["short"])
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif is_list and meta.get("nargs"):  # space separated: --bundles a.zip b.zip
            kwargs["nargs"] = meta["nargs"]
            kwargs["type"] = item_type
            kwargs["metavar"] = meta.get("metavar", "FILE")
        elif is_list:
            kwargs["type"] = _user_parser(meta["parse"], flags[-1]) if "parse" in meta else _comma_list(item_type)
            kwargs["metavar"] = meta.get("metavar", "A,B,...")
        else:
            kwargs["type"] = _user_parser(meta["parse"], flags[-1]) if "parse" in meta else _scalar_parser(tp)
            if "metavar" in meta:
                kwargs["metavar"] = meta["metavar"]
        if has_default and not meta.get("required"):
            kwargs["default"] = default
            if kwargs["help"] and tp is not bool and default not in (None, "", [], ()):
                if "show" in meta:
                    shown = meta["show"](default)
                else:
                    shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
                kwargs["help"] += f" (default: {shown})"
        else:
            kwargs["required"] = True
        parser.add_argument(*flags, dest=f.name, **kwargs)


def build_config(config_cls: type, args: argparse.Namespace) -> Any:
    values = {}
    for f in dataclasses.fields(config_cls):
        if f.init and hasattr(args, f.name):
            value = getattr(args, f.name)
            values[f.name] = value
    return config_cls(**values)
