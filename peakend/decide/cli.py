"""The ``peakend optimize`` subcommand: the cheapest staffing plan meeting targets.

Usage::

    peakend optimize [SCENARIO] --target "ordinary.remembered[peak_end] >= 0"
                     --target "all.wait_p90 <= 10" [--blocks K | --blocks 09:00,12:00,...]
                     [--groups general,vip] [--per-block] [--replications N] [--seed S]
                     [--workers W] [--out policy.toml]

It prints the plan and writes it as a policy file (one policy, ``optimized``),
which ``peakend run SCENARIO --policies policy.toml`` reads back. ``cli.py``
registers it with :func:`add_parser` and dispatches to :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "main", "policy_toml"]

DEFAULT_SCENARIO = "default_branch"

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``optimize`` subcommand to an ``argparse`` subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser.
    """
    p = subparsers.add_parser(
        "optimize", help="find the cheapest staffing plan meeting targets; write it as a policy")
    p.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                   help=f"built-in scenario name or .toml file (default {DEFAULT_SCENARIO})")
    p.add_argument("--target", "-t", action="append", required=True, metavar="TARGET",
                   help="a target 'segment.metric OP value', e.g. 'all.wait_p90 <= 10' "
                   "(repeat for several)")
    p.add_argument("--blocks", default=None, metavar="K|HH:MM,...",
                   help="staffing blocks: a number of equal blocks or start times "
                   "(default: the scenario's own shift blocks)")
    p.add_argument("--groups", default=None, metavar="G1,G2",
                   help="counter groups to plan, a further stage's as stage/group, e.g. "
                   "general,advisor/rm (default: every staffed group of every stage)")
    p.add_argument("--per-block", action="store_true",
                   help="require every target in every block, not only over the day")
    p.add_argument("--replications", "-n", type=int, default=30, metavar="N",
                   help="replications per plan in the search and in the fresh check "
                   "(default 30)")
    p.add_argument("--seed", "-s", type=int, default=0, metavar="S", help="root seed (default 0)")
    p.add_argument("--workers", "-w", type=int, default=None, metavar="W",
                   help="worker processes (default: this process only)")
    p.add_argument("--out", "-o", default="policy.toml", metavar="FILE",
                   help="policy file to write (default policy.toml)")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


def _blocks_arg(text: str | None) -> int | list[str] | None:
    if text is None:
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    return [part.strip() for part in text.split(",") if part.strip()]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml_tables(prefix: str, table: dict[str, Any], lines: list[str]) -> None:
    plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
    if plain:
        lines.append(f"[{prefix}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in plain.items())
        lines.append("")
    for k, v in table.items():
        if isinstance(v, dict):
            _toml_tables(f"{prefix}.{_toml_key(k)}", v, lines)


def policy_toml(policy: Any) -> str:
    """Return a policy as the text of a policy file (one table, ``[name]``).

    Parameters
    ----------
    policy : Policy
        A policy whose changes are nested tables of plain values, e.g. those of a
        staffing plan (``counters.<group>.tellers``,
        ``stages.<stage>.counters.<group>.tellers``).

    Returns
    -------
    str
        TOML text that :func:`peakend.experiment.load_policies` reads back.
    """
    name = _toml_key(policy.name)
    lines = [f"[{name}]", f"description = {json.dumps(policy.description)}", ""]
    _toml_tables(f"{name}.changes", dict(policy.changes), lines)
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run ``peakend optimize``: print the plan, write the policy file.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by the parser of :func:`add_parser`.

    Returns
    -------
    int
        0 on success; errors are raised as ``ValueError`` (the ``peakend``
        command prints them as one line and exits with status 2).
    """
    from peakend.decide.staffing import optimize_staffing

    groups = None if args.groups is None else [g.strip() for g in args.groups.split(",")]
    plan = optimize_staffing(
        args.scenario, list(args.target), groups=groups, blocks=_blocks_arg(args.blocks),
        seed=args.seed, workers=args.workers, replications=args.replications,
        per_block=bool(args.per_block),
    )
    print(plan.summary())
    out = Path(args.out)
    out.write_text(policy_toml(plan.policy), encoding="utf-8")
    print(f"policy written to {out} (peakend run {args.scenario} --policies {out})")
    return 0
