"""The ``peakend`` command: run policy experiments, list and validate scenarios.

Usage::

    peakend run [SCENARIO] [--policies FILE] [--replications N] [--seed S]
                [--workers W] [--out DIR] [--rules R1,R2] [--survey] [--checkpoint DIR]
                [--no-progress] [--debug]
    peakend show RESULTS [--out DIR]
    peakend scenarios
    peakend validate FILE [--scenario NAME]
    peakend schema

With no arguments, ``peakend run`` simulates the built-in ``default_branch``
under its built-in policy set. Errors print one line on stderr and exit with
status 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_REPLICATIONS", "main"]

#: Replications of ``peakend run`` without ``--replications`` (measured to finish the built-in
#: policy set on default_branch in well under 2 minutes on 2 cores; see docs/reference/cli.md).
DEFAULT_REPLICATIONS = 200
DEFAULT_SCENARIO = "default_branch"
DEFAULT_RULES = ("peak_end", "mean", "integral", "end")  # = peakend.experiment.DEFAULT_RULES
EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


class CliError(Exception):
    """An error reported to the user as one line."""


def _parser() -> argparse.ArgumentParser:
    from peakend import __version__

    parser = argparse.ArgumentParser(
        prog="peakend",
        description="Simulate bank-branch visits and compare how customers remember them "
        "under different policies.",
    )
    parser.add_argument("--version", action="version", version=f"peakend {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a policy experiment and print a comparison table")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help=f"built-in scenario name or .toml file (default {DEFAULT_SCENARIO})")
    run.add_argument("--policies", metavar="FILE",
                     help="policy file (.toml) or built-in policy set; default: the built-in "
                     "set named like the scenario, else the scenario alone")
    run.add_argument("--replications", "-n", type=int, default=DEFAULT_REPLICATIONS,
                     metavar="N",
                     help=f"simulated days per policy (default {DEFAULT_REPLICATIONS})")
    run.add_argument("--seed", "-s", type=int, default=0, metavar="S", help="root seed (default 0)")
    run.add_argument("--workers", "-w", type=int, default=None, metavar="W",
                     help="worker processes (default: number of CPUs)")
    run.add_argument("--out", "-o", default="peakend-results", metavar="DIR",
                     help="directory for results.npz, tables and plots (default peakend-results)")
    run.add_argument("--rules", default=",".join(DEFAULT_RULES), metavar="R1,R2,...",
                     help="memory rules to score, the first is the headline "
                     f"(default {','.join(DEFAULT_RULES)})")
    run.add_argument("--survey", action="store_true",
                     help="also keep survey metrics (CSAT, NPS, CES, complaints) per segment")
    run.add_argument("--checkpoint", metavar="DIR",
                     help="resumable checkpoint directory (rerun the same command to resume)")
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (also off when stderr is not a terminal, e.g. in CI or a log)",
    )
    run.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    show = sub.add_parser("show", help="print the comparison of saved results (no simulation)")
    show.add_argument("results", help="a results.npz written by peakend run or Results.save")
    show.add_argument("--out", "-o", default=None, metavar="DIR",
                      help="also write the CSV tables and plots to DIR")
    show.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    sc = sub.add_parser("scenarios", help="list the built-in scenarios and policy sets")
    sc.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    val = sub.add_parser("validate", help="check a scenario or policy file, errors by field")
    val.add_argument("file", help="a scenario .toml file or a policy .toml file")
    val.add_argument("--scenario", default=None,
                     help="scenario to check a policy file against (default: default_branch)")
    val.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


# --------------------------------------------------------------------------- commands
def _cmd_scenarios(args: argparse.Namespace) -> int:
    import peakend as pe
    from peakend.experiment import builtin_policy_sets

    names = pe.scenarios.builtin_names()
    sets = set(builtin_policy_sets())
    width = max((len(n) for n in names), default=0)
    for name in names:
        s = pe.load_scenario(name)
        first = (s.description.strip().splitlines() or [""])[0]
        extra = "  [policy set]" if name in sets else ""
        print(f"{name.ljust(width)}  {first}{extra}")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    import peakend as pe

    print(json.dumps(pe.scenario_schema(), indent=2))
    return EXIT_OK


def _is_policy_file(data: dict[str, Any]) -> bool:
    from peakend.experiment._policy import POLICY_FILE_KEYS

    return bool(data) and all(
        isinstance(v, dict) and set(v) <= POLICY_FILE_KEYS and bool(v) for v in data.values()
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    import pydantic

    import peakend as pe
    from peakend.experiment import PolicyError, load_policies

    path = Path(args.file)
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise CliError(f"validate: {str(path)!r} {what}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path}: invalid TOML: {exc}") from exc
    if _is_policy_file(data):
        base = pe.load_scenario(args.scenario or DEFAULT_SCENARIO)
        try:
            policies = load_policies(path)
        except PolicyError as exc:
            raise CliError(str(exc)) from exc
        problems = []
        for p in policies:
            try:
                p.apply(base)
            except PolicyError as exc:
                problems.append(str(exc))
        if problems:
            for line in problems:
                print(f"{path}: {line}", file=sys.stderr)
            return EXIT_ERROR
        print(f"{path}: valid policy file ({len(policies)} policies, checked against "
              f"scenario {base.name!r}): {', '.join(p.name for p in policies)}")
        return EXIT_OK
    try:
        scenario = pe.load_scenario(path)
    except pydantic.ValidationError as exc:
        from peakend.experiment._policy import validation_messages

        for line in validation_messages(exc):
            print(f"{path}: {line}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{path}: valid scenario {scenario.name!r}")
    return EXIT_OK


def _comparison_table(results: Any) -> Any:
    """Per policy and segment: remembered value with CI, difference vs baseline, wait, cost."""
    import numpy as np

    from peakend import stats
    from peakend.experiment import Table

    rule = results.headline_rule
    base = results.policies[0]
    cmp = results.compare(base, rule) if len(results.policies) > 1 else None
    cols: dict[str, list[Any]] = {k: [] for k in (
        "policy", "segment", "remembered", "+/-", "vs_baseline", "low", "high", "sig",
        "wait_min", "abandon_%", "cost/day")}
    for pol in results.policies:
        for seg in results.segments:
            ci = stats.mean_ci(results.get(rule, seg, pol))
            cols["policy"].append(pol)
            cols["segment"].append(seg)
            cols["remembered"].append(float(ci.mean))
            cols["+/-"].append(float(ci.half_width))
            d = lo = hi = float("nan")
            sig = ""
            if cmp is not None and pol != base:
                row = next(r for r in cmp.rows() if r["policy"] == pol and r["segment"] == seg)
                d, lo, hi = row["difference"], row["low"], row["high"]
                sig = "*" if row["p_holm"] < 0.05 else ""
            cols["vs_baseline"].append(d)
            cols["low"].append(lo)
            cols["high"].append(hi)
            cols["sig"].append(sig)
            for key, metric, scale in (("wait_min", "wait_mean", 1.0),
                                       ("abandon_%", "abandonment_rate", 100.0),
                                       ("cost/day", "cost", 1.0)):
                v = results.get(metric, seg, pol)
                cols[key].append(float(np.nanmean(v)) * scale if np.isfinite(v).any()
                                 else float("nan"))
    return Table({k: np.asarray(v) for k, v in cols.items()},
                 title=f"remembered value ({rule}, affect points) with 95% CI; paired "
                 f"difference vs {base!r} (* Holm-adjusted p < 0.05); "
                 f"{results.n_replications} replications, seed {results.seed}")


def _write_plots(results: Any, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from peakend import plots

    written = []
    rule = results.headline_rule
    if len(results.policies) > 1:
        cmp = results.compare(results.policies[0], rule)
        ax = plots.policy_comparison({c: cmp[c] for c in cmp.columns},
                                     baseline=results.policies[0])
        fig = ax.get_figure(root=True)
        assert fig is not None
        fig.savefig(out / "comparison.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out / "comparison.png")
    par = results.pareto(rule)
    ci = [float(results.summary(rule, "all").where(policy=p)["half_width"][0])
          for p in par["policy"]]
    ax = plots.cost_value_pareto(par["cost"], par["value"], list(par["policy"]), value_err=ci)
    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.savefig(out / "pareto.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    written.append(out / "pareto.png")
    return written


def _cmd_run(args: argparse.Namespace) -> int:
    import peakend as pe
    from peakend.experiment import builtin_policy_sets, load_policies

    if args.replications < 1:
        raise CliError(f"--replications must be >= 1, got {args.replications}")
    if args.seed < 0:
        raise CliError(f"--seed must be >= 0, got {args.seed}")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise CliError(f"--workers must be >= 1, got {workers}")
    scenario = pe.load_scenario(args.scenario)
    if args.policies is not None:
        policies = load_policies(args.policies, scenario)
    elif str(args.scenario) in builtin_policy_sets():
        policies = load_policies(str(args.scenario), scenario)
    else:
        policies = None
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = pe.run(
            scenario,
            policies,
            replications=args.replications,
            seed=args.seed,
            workers=workers,
            progress=not args.no_progress and sys.stderr.isatty(),
            checkpoint=args.checkpoint,
            rules=[r.strip() for r in args.rules.split(",") if r.strip()],
            survey=args.survey,
        )
    elapsed = time.perf_counter() - t0
    for w in caught:
        print(f"peakend: warning: {w.message}", file=sys.stderr)
    table = _print_report(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = results.save(out / "results.npz")
    written = _write_outputs(results, table, out)
    print(f"\n{len(results.policies)} policies x {results.n_replications} replications in "
          f"{elapsed:.1f} s on {workers} worker(s); wrote {saved.name}, "
          f"{', '.join(written)} to {out}")
    return EXIT_OK


def _print_report(results: Any) -> Any:
    """Print the comparison table, the Pareto set and rule disagreements; return the table."""
    table = _comparison_table(results)
    print(table.to_text(digits=2, na_rep="-"))
    par = results.pareto()
    eff = [str(p) for p, e in zip(par["policy"], par["efficient"], strict=True) if e]
    print(f"\nPareto-efficient (cost/day vs remembered value): {', '.join(eff)}")
    dis = results.rule_disagreement()
    strong = dis.select(dis["both_significant"]) if len(dis) else dis
    if len(strong):
        pairs = sorted({f"{r['policy_1']} vs {r['policy_2']} ({r['rule_a']} vs {r['rule_b']})"
                        for r in strong.rows()})
        print(f"Memory rules disagree (both significant) on: {'; '.join(pairs[:6])}"
              + (" ..." if len(pairs) > 6 else ""))
    return table


def _write_outputs(results: Any, table: Any, out: Path) -> list[str]:
    """Write the CSV tables and the plots to ``out``; return the file names."""
    table.to_csv(out / "comparison.csv")
    results.summary().to_csv(out / "summary.csv")
    written = ["comparison.csv", "summary.csv"]
    if len(results.policies) > 1:
        results.compare().to_csv(out / "compare.csv")
        written.append("compare.csv")
    written += [p.name for p in _write_plots(results, out)]
    return written


def _cmd_show(args: argparse.Namespace) -> int:
    import peakend as pe

    results = pe.load_results(args.results)
    print(results.describe())
    table = _print_report(results)
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        written = _write_outputs(results, table, out)
        print(f"\nwrote {', '.join(written)} to {out}")
    return EXIT_OK


def _one_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if type(exc).__name__ == "ValidationError" and hasattr(exc, "errors"):
        from peakend.experiment._policy import validation_messages

        return "invalid scenario: " + "; ".join(validation_messages(exc))
    return " ".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``peakend`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 success, 2 error (usage, invalid file, bad argument),
        130 interrupted.
    """
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    commands = {"run": _cmd_run, "show": _cmd_show, "scenarios": _cmd_scenarios,
                "validate": _cmd_validate, "schema": _cmd_schema}
    debug = bool(getattr(args, "debug", False)) or "--debug" in argv
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        if debug:
            raise
        print("peakend: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, ValueError, OSError, ImportError, KeyError, RuntimeError) as exc:
        if debug:
            raise
        print(f"peakend: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug, not a user error: still one line unless --debug
        if debug:
            raise
        print(f"peakend: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
