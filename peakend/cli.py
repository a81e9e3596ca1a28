"""The ``peakend`` command: run policy experiments, list and validate scenarios.

Usage::

    peakend run [SCENARIO] [--policies FILE] [--replications N] [--seed S]
                [--workers W] [--out DIR] [--rules R1,R2] [--survey] [--checkpoint DIR]
                [--report] [--format table|csv|json] [--no-progress] [--debug]
    peakend show RESULTS [--out DIR] [--format table|csv|json]
    peakend scenarios [--format table|csv|json]
    peakend validate FILE [--scenario NAME]
    peakend schema
    peakend optimize [SCENARIO] --target "..." [--target "..."] [--out policy.toml]

With no arguments, ``peakend run`` simulates the built-in ``default_branch``
under its built-in policy set. Errors print one line on stderr and exit with
status 2 (a traceback only with ``--debug``). Every argument is checked before
anything is simulated; the results are written before anything is printed,
and a closed pipe (``peakend run | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_REPLICATIONS", "MAX_REPLICATIONS", "MAX_WORKERS", "main"]

#: Replications of ``peakend run`` without ``--replications`` (measured to finish the built-in
#: policy set on default_branch in well under 2 minutes on 2 cores; see docs/reference/cli.md).
DEFAULT_REPLICATIONS = 200
#: Largest ``--replications`` accepted (a guard against typos; the library takes more).
MAX_REPLICATIONS = 1_000_000
#: Largest ``--workers`` accepted.
MAX_WORKERS = 256
MAX_SEED = 2**63 - 1
DEFAULT_SCENARIO = "default_branch"
DEFAULT_RULES = ("peak_end", "mean", "integral", "end")  # = peakend.experiment.DEFAULT_RULES
FORMATS = ("table", "csv", "json")
EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


class CliError(Exception):
    """An error reported to the user as one line."""


def _suggest(name: str, choices: Sequence[str], n: int = 2) -> str:
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.6)
    return (" (did you mean " + " or ".join(repr(c) for c in close) + "?)") if close else ""


class _Parser(argparse.ArgumentParser):
    """argparse with "did you mean" for a mistyped subcommand or option."""

    def error(self, message: str) -> Any:  # argparse's signature: NoReturn
        if "invalid choice:" in message:
            bad = message.split("invalid choice:", 1)[1].split("(", 1)[0].strip().strip("'\"")
            for action in self._actions:
                if action.choices and bad not in action.choices:
                    message += _suggest(bad, [str(c) for c in action.choices])
                    break
        elif message.startswith("unrecognized arguments:"):
            words = message.split(":", 1)[1].split()
            parsers = [self, *(p for a in self._actions
                               if isinstance(a, argparse._SubParsersAction)
                               for p in a.choices.values())]
            options = sorted({o for p in parsers for a in p._actions for o in a.option_strings})
            hints = [_suggest(w.split("=")[0], options, 1) for w in words if w.startswith("-")]
            message += "".join(h for h in hints if h)[:200]
        return super().error(message)


def _parser() -> argparse.ArgumentParser:
    from peakend import __version__

    parser = _Parser(
        prog="peakend",
        description="Simulate bank-branch visits and compare how customers remember them "
        "under different policies.",
    )
    parser.add_argument("--version", action="version", version=f"peakend {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def fmt(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--format", "-f", choices=FORMATS, default="table",
                       help=f"how to print {what}: an aligned text table (default), CSV or JSON "
                       "records (csv and json print only the table on stdout)")

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
    run.add_argument("--report", action="store_true",
                     help="also write report.html (a self-contained HTML report) to --out")
    run.add_argument("--engine", choices=("auto", "simpy", "compiled"), default="auto",
                     help="movement engine: compiled (numba, the fast extra), simpy, or auto "
                     "(compiled when numba is installed; default); the results are identical")
    fmt(run, "the comparison table")
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
    fmt(show, "the comparison table")
    show.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    sc = sub.add_parser("scenarios", help="list the built-in scenarios and policy sets")
    fmt(sc, "the list")
    sc.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    val = sub.add_parser("validate", help="check a scenario or policy file, errors by field")
    val.add_argument("file", help="a scenario .toml file or a policy .toml file")
    val.add_argument("--scenario", default=None,
                     help="scenario to check a policy file against (default: default_branch)")
    val.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    from peakend.decide import cli as decide_cli

    decide_cli.add_parser(sub)
    return parser


# --------------------------------------------------------------------------- output
def _emit(df: Any, fmt: str, *, digits: Any = 2) -> None:
    """Print a DataFrame as an aligned table, CSV or JSON records on stdout."""
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1, double_precision=15) + "\n")
    else:
        from peakend.experiment._table import format_text

        print(format_text(df, digits=digits))


def _status(args: argparse.Namespace, text: str) -> None:
    """Print a message for the reader: on stdout with the text table, else on stderr."""
    print(text, file=sys.stdout if args.format == "table" else sys.stderr)


# --------------------------------------------------------------------------- checks
def _exists(path: Path, option: str) -> bool:
    """``path.exists()``, with an OSError (e.g. a name too long) reported naming the option."""
    try:
        return path.exists()
    except OSError as exc:
        raise CliError(f"{option}: unusable path {str(path)[:80]!r}: "
                       f"{exc.strerror or exc}") from None


def _writable_dir(value: str, option: str) -> Path:
    """Check that ``value`` is, or can be made, a writable directory; raise CliError naming it."""
    if not value.strip():
        raise CliError(f"{option}: must name a directory, got an empty string")
    if "\x00" in value:
        raise CliError(f"{option}: a path cannot contain a NUL character")
    path = Path(value)
    if _exists(path, option) and not path.is_dir():
        raise CliError(f"{option}: {value!r} is an existing file, not a directory")
    probe = path
    while not _exists(probe, option):
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise CliError(f"{option}: cannot create {value!r}: {str(probe)!r} is a file")
    try:
        fd, name = tempfile.mkstemp(prefix=".peakend-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        what = "write to" if probe == path else "create a directory in"
        raise CliError(f"{option}: cannot {what} {str(probe)!r} ({exc.strerror or exc})") from None
    return path


def _load_scenario(arg: str) -> Any:
    import peakend as pe

    names = pe.scenarios.builtin_names()
    if "\x00" in arg:
        raise CliError("scenario: a file name cannot contain a NUL character")
    path = Path(arg)
    if arg not in names:
        if not _exists(path, "scenario"):
            if path.suffix or os.sep in arg:
                raise CliError(f"scenario {arg!r}: no such file")
            raise CliError(f"scenario {arg!r} is neither a built-in scenario{_suggest(arg, names)}"
                           f" nor a .toml file; built-in: {', '.join(names)}")
        if not path.is_file():
            raise CliError(f"scenario {arg!r} is a directory, not a scenario .toml file")
    try:
        return pe.load_scenario(arg)
    except CliError:
        raise
    except RecursionError:
        raise CliError(f"scenario {arg!r}: invalid TOML: nested too deeply") from None
    except (ValueError, OSError) as exc:
        if type(exc).__name__ == "ValidationError" or arg in str(exc):
            raise
        raise CliError(f"scenario {arg!r}: {_one_line(exc)}") from exc


def _load_policies(args: argparse.Namespace, scenario: Any) -> Any:
    from peakend.experiment import builtin_policy_sets, load_policies

    if args.policies is None:
        if str(args.scenario) in builtin_policy_sets():
            return load_policies(str(args.scenario), scenario)
        return None
    arg = str(args.policies)
    if "\x00" in arg:
        raise CliError("--policies: a file name cannot contain a NUL character")
    sets = builtin_policy_sets()
    path = Path(arg)
    if arg not in sets and not _exists(path, "--policies"):
        if path.suffix or os.sep in arg:
            raise CliError(f"--policies: {arg!r}: no such file")
        raise CliError(f"--policies: {arg!r} is neither a policy .toml file nor a built-in "
                       f"policy set{_suggest(arg, sets)}; built-in: {', '.join(sets) or 'none'}")
    if path.exists() and not path.is_file():
        raise CliError(f"--policies: {arg!r} is a directory, not a policy .toml file")
    from peakend.config import ConfigError

    try:
        return load_policies(arg, scenario)
    except ConfigError as exc:
        raise CliError(f"--policies: {exc}") from None


def _check_rules(text: str) -> list[str]:
    from peakend.memory import RULES

    rules = [r.strip() for r in text.split(",") if r.strip()]
    if not rules:
        raise CliError(f"--rules: name at least one memory rule ({', '.join(RULES)})")
    for r in rules:
        if r not in RULES:
            raise CliError(f"--rules: unknown memory rule {r!r}{_suggest(r, list(RULES))}; "
                           f"valid rules: {', '.join(RULES)}")
    dup = sorted({r for r in rules if rules.count(r) > 1})
    if dup:
        raise CliError(f"--rules: each rule once, repeated: {', '.join(dup)}")
    return rules


def _check_numbers(args: argparse.Namespace) -> int:
    if not 1 <= args.replications <= MAX_REPLICATIONS:
        raise CliError(f"--replications must be between 1 and {MAX_REPLICATIONS:,}, "
                       f"got {args.replications}")
    if not 0 <= args.seed <= MAX_SEED:
        raise CliError(f"--seed must be between 0 and {MAX_SEED}, got {args.seed}")
    workers = args.workers if args.workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    if not 1 <= workers <= MAX_WORKERS:
        raise CliError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    return workers


# --------------------------------------------------------------------------- commands
def _cmd_scenarios(args: argparse.Namespace) -> int:
    import pandas as pd

    import peakend as pe
    from peakend.experiment import builtin_policy_sets

    names = pe.scenarios.builtin_names()
    sets = set(builtin_policy_sets())
    rows: list[dict[str, Any]] = []
    for name in names:
        s = pe.load_scenario(name)
        rows.append({"name": name,
                     "description": (s.description.strip().splitlines() or [""])[0],
                     "policy_set": name in sets})
    df = pd.DataFrame(rows, columns=["name", "description", "policy_set"])
    if args.format != "table":
        _emit(df, args.format)
        return EXIT_OK
    width = max((len(n) for n in names), default=0)
    for row in rows:
        extra = "  [policy set]" if row["policy_set"] else ""
        print(f"{str(row['name']).ljust(width)}  {row['description']}{extra}")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    import peakend as pe

    print(json.dumps(pe.scenario_schema(), indent=2))
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    import peakend as pe
    from peakend.config import ConfigError, check_file
    from peakend.experiment import load_policies

    path = Path(args.file)
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise CliError(f"validate: {str(path)!r} {what}")
    base = _load_scenario(args.scenario or DEFAULT_SCENARIO)
    try:
        kind = check_file(path, base)
    except ConfigError as exc:
        if not exc.problems:
            raise CliError(str(exc)) from None
        for line in exc.problems:
            print(f"{path}: {line}", file=sys.stderr)
        if exc.n_problems > len(exc.problems):
            print(f"{path}: ... and {exc.n_problems - len(exc.problems):,} more",
                  file=sys.stderr)
        return EXIT_ERROR
    if kind == "policies":
        policies = load_policies(path, base)
        print(f"{path}: valid policy file ({len(policies)} policies, checked against "
              f"scenario {base.name!r}): {', '.join(p.name for p in policies)}")
        return EXIT_OK
    print(f"{path}: valid scenario {pe.load_scenario(path).name!r}")
    return EXIT_OK


def comparison_table(results: Any, confidence: float = 0.95) -> Any:
    """Per policy and segment: remembered value with CI, difference vs baseline, wait, cost.

    Parameters
    ----------
    results : peakend.experiment.Results
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Columns ``policy, segment, remembered, half_width`` (headline rule,
        affect points), ``difference, low, high`` (paired, against the first
        policy; NaN for the baseline itself), ``significant`` (Holm-adjusted
        p < 1 - confidence; missing for the baseline), ``wait_mean`` (minutes),
        ``abandonment_rate`` (0..1), ``cost`` (currency per day); what
        ``peakend run`` prints and writes to ``comparison.csv``.
    """
    import pandas as pd

    head = results.headline(confidence)
    base = results.policies[0]
    df = head[["policy", "segment", "remembered", "half_width"]].copy()
    if len(results.policies) > 1:
        cmp = results.compare(base, results.headline_rule, confidence=confidence)
        cmp = cmp[["policy", "segment", "difference", "low", "high", "significant", "p_holm"]]
        df = df.merge(cmp, on=["policy", "segment"], how="left", sort=False)
    else:
        for c in ("difference", "low", "high"):
            df[c] = float("nan")
        df["significant"] = pd.NA
    df["significant"] = df["significant"].astype("boolean")
    for c in ("wait_mean", "abandonment_rate", "cost"):
        df[c] = head[c].to_numpy()
    if "p_holm" in df:
        df.loc[df["p_holm"].isna(), "significant"] = pd.NA  # n < 3 or no customers: no test
        df = df.drop(columns="p_holm")
    empty = head["n_customers"].to_numpy() == 0
    df.attrs["no_customers"] = list(zip(df["policy"][empty], df["segment"][empty], strict=True))
    alpha = 1 - confidence
    df.attrs["title"] = (
        f"remembered value ({results.headline_rule}, affect points) with {confidence:.0%} CI "
        f"half-width; paired difference vs {base!r} (significant: Holm-adjusted p < {alpha:g});"
        f" {results.n_replications} replications, seed {results.seed}")
    return df


def _save_figure(ax: Any, path: Path, dpi: int) -> Path:
    import matplotlib.pyplot as plt

    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _write_plots(results: Any, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from peakend import plots

    written = []
    rule = results.headline_rule
    if len(results.policies) > 1:
        cmp = results.compare(results.policies[0], rule)
        cmp = cmp[np.isfinite(cmp["low"]) & np.isfinite(cmp["high"])]
        if len(cmp):
            ax = plots.policy_comparison(cmp, baseline=results.policies[0])
            written.append(_save_figure(ax, out / "comparison.png", 110))
    par = results.pareto(rule)
    par = par[np.isfinite(par["value"])]
    if len(par):
        ci = results.summary(rule, "all").set_index("policy")["half_width"]
        currency = results.scenario.get("currency", "currency units")
        ax = plots.cost_value_pareto(par["cost"].to_numpy(), par["value"].to_numpy(),
                                     list(par["policy"]),
                                     value_err=ci.loc[list(par["policy"])].to_numpy(),
                                     xlabel=f"cost ({currency} per day)")
        written.append(_save_figure(ax, out / "pareto.png", 110))
    return written


def _write_outputs(results: Any, table: Any, out: Path) -> list[str]:
    """Write the CSV tables and the plots to ``out``; return the file names."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"comparison.csv": table, "summary.csv": results.summary(),
             "pareto.csv": results.pareto()}
    if len(results.policies) > 1:
        files["compare.csv"] = results.compare()
    if len(results.rules) > 1 and len(results.policies) > 1:
        files["rule_disagreement.csv"] = results.rule_disagreement()
    for name, df in files.items():
        df.to_csv(out / name, index=False)
    return [*files, *(p.name for p in _write_plots(results, out))]


def _print_report(results: Any, table: Any, args: argparse.Namespace) -> None:
    """Print the comparison table, then (text format only) the Pareto set and disagreements."""
    from peakend.experiment._table import COLUMN_DIGITS

    _emit(table, args.format, digits=COLUMN_DIGITS)
    if args.format != "table":
        return
    if results.n_replications < 3:
        print(f"- : with {results.n_replications} replication(s) no interval or test is "
              "computed (it needs at least 3)")
    empty = table.attrs.get("no_customers", [])
    if empty:
        by_policy: dict[str, list[str]] = {}
        for pol, seg in empty:
            by_policy.setdefault(pol, []).append(seg)
        where = "; ".join(
            f"{pol} ({'every segment' if len(segs) == len(results.segments) else ', '.join(segs)})"
            for pol, segs in by_policy.items())
        print(f"- : not defined: no customers in any replication for {where}")
    par = results.pareto()
    eff = list(par.loc[par["efficient"], "policy"])
    print(f"\nPareto-efficient (cost/day vs remembered value): {', '.join(eff) or 'none'}")
    if len(results.rules) < 2 or len(results.policies) < 2:
        return
    dis = results.rule_disagreement()
    strong = dis[dis["both_significant"]]
    if len(strong):
        pairs = sorted({f"{r.policy_1} vs {r.policy_2} ({r.rule_a} vs {r.rule_b})"
                        for r in strong.itertuples()})
        print(f"Memory rules disagree (both significant) on: {'; '.join(pairs[:6])}"
              + (f" ... ({len(pairs)} pairs, all in rule_disagreement.csv)"
                 if len(pairs) > 6 else ""))


def _cmd_run(args: argparse.Namespace) -> int:
    import peakend as pe

    workers = _check_numbers(args)
    rules = _check_rules(args.rules)
    out = _writable_dir(args.out, "--out")
    if args.checkpoint is not None:
        _writable_dir(args.checkpoint, "--checkpoint")
    scenario = _load_scenario(str(args.scenario))
    policies = _load_policies(args, scenario)
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
            rules=rules,
            survey=args.survey,
            engine=args.engine,
        )
    elapsed = time.perf_counter() - t0
    seen: set[str] = set()
    for w in caught:
        text = str(w.message)
        if text not in seen:
            seen.add(text)
            print(f"peakend: warning: {text}", file=sys.stderr)
    # everything is written before anything is printed: a closed pipe loses nothing
    saved = results.save(out / "results.npz")
    table = comparison_table(results)
    written = _write_outputs(results, table, out)
    if args.report:
        written.append(results.report(out / "report.html").name)
    _print_report(results, table, args)
    _status(args, f"\n{len(results.policies)} policies x {results.n_replications} replications "
                  f"in {elapsed:.1f} s on {workers} worker(s); wrote {saved.name}, "
                  f"{', '.join(written)} to {out}")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    import peakend as pe

    out = _writable_dir(args.out, "--out") if args.out is not None else None
    results = pe.load_results(args.results)
    table = comparison_table(results)
    written = _write_outputs(results, table, out) if out is not None else []
    _status(args, results.describe())
    _print_report(results, table, args)
    if out is not None:
        _status(args, f"\nwrote {', '.join(written)} to {out}")
    return EXIT_OK


def _one_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if type(exc).__name__ == "ValidationError" and hasattr(exc, "errors"):
        from peakend.experiment._policy import validation_messages

        return "invalid scenario: " + "; ".join(validation_messages(exc))
    if isinstance(exc, MemoryError):
        return "out of memory (try fewer replications, policies or a smaller scenario)"
    return " ".join(lines)


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (e.g. captured)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``peakend`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 success (also when the reader closed the pipe, e.g.
        ``peakend run | head``: the results were written first), 2 error
        (usage, invalid file, bad argument), 130 interrupted.
    """
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
        if args.command is None:
            parser.print_help()
            return EXIT_ERROR
        from peakend.decide import cli as decide_cli

        commands = {"run": _cmd_run, "show": _cmd_show, "scenarios": _cmd_scenarios,
                    "validate": _cmd_validate, "schema": _cmd_schema,
                    "optimize": decide_cli.main}
        debug = debug or bool(getattr(args, "debug", False))
        status = commands[args.command](args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        if debug:
            raise
        print("peakend: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, ValueError, OSError, ImportError, KeyError, RuntimeError,
            MemoryError) as exc:
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
