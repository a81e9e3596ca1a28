"""Bad input on the command line: each a clear error, exit status 2, before any simulation.

``pe.run`` is replaced by a tripwire in these tests: an argument that reaches the
simulation before being refused fails the test (the checks must come first).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import peakend as pe
from peakend.cli import main

BUILTIN = Path(pe.__file__).parent / "scenarios" / "default_branch.toml"


class ReachedSimulation(BaseException):
    """Raised by the stand-in for pe.run: the CLI got as far as simulating."""


@pytest.fixture
def tripwire(monkeypatch):
    def run(*args, **kwargs):
        raise ReachedSimulation

    monkeypatch.setattr(pe, "run", run)


def files(tmp: Path) -> dict[str, str]:
    """Paths used by the cases, by placeholder."""
    (tmp / "a_file").write_text("x")
    (tmp / "binary.toml").write_bytes(b"\xff\xfe\x00junk\x80\x81")
    (tmp / "broken.toml").write_text("[segments\n")
    (tmp / "adir").mkdir(exist_ok=True)
    (tmp / "scenario.toml").write_text(BUILTIN.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp / "pol.toml").write_text("[baseline]\n[more]\nchanges.hall.distraction = true\n")
    (tmp / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    return {"{file}": str(tmp / "a_file"), "{binary}": str(tmp / "binary.toml"),
            "{broken}": str(tmp / "broken.toml"), "{dir}": str(tmp / "adir"),
            "{scenario}": str(tmp / "scenario.toml"), "{pol}": str(tmp / "pol.toml"),
            "{deep}": str(tmp / "deep.toml"), "{tmp}": str(tmp)}


def expand(argv, paths):
    out = []
    for a in argv:
        for key, value in paths.items():
            a = a.replace(key, value)
        out.append(a)
    return out


CASES = [
    # numbers
    (["run", "-n", "0"], "--replications must be between 1 and 1,000,000, got 0"),
    (["run", "-n", "-3"], "--replications must be between 1 and 1,000,000, got -3"),
    (["run", "-n", "2000000"], "--replications must be between 1 and 1,000,000, got 2000000"),
    (["run", "-n", "many"], "argument --replications/-n: invalid int value: 'many'"),
    (["run", "-n", "3.5"], "argument --replications/-n: invalid int value: '3.5'"),
    (["run", "--seed", "-1"], "--seed must be between 0 and 9223372036854775807, got -1"),
    (["run", "--seed", str(2**64)], f"--seed must be between 0 and 9223372036854775807, got "
                                    f"{2**64}"),
    (["run", "--seed", "1e3"], "argument --seed/-s: invalid int value: '1e3'"),
    (["run", "--workers", "0"], "--workers must be between 1 and 256, got 0"),
    (["run", "--workers", "100000"], "--workers must be between 1 and 256, got 100000"),
    # rules
    (["run", "--rules", ""], "--rules: name at least one memory rule"),
    (["run", "--rules", ",, ,"], "--rules: name at least one memory rule"),
    (["run", "--rules", "peak_ned"], "--rules: unknown memory rule 'peak_ned' (did you mean "
                                     "'peak_end'"),
    (["run", "--rules", "peak_end,intgral"], "unknown memory rule 'intgral' (did you mean "
                                             "'integral'?)"),
    (["run", "--rules", "peak_end,end,peak_end"], "--rules: each rule once, repeated: peak_end"),
    # scenario and policies
    (["run", "default_brnach"], "scenario 'default_brnach' is neither a built-in scenario (did "
                                "you mean 'default_branch'?)"),
    (["run", "nothing.toml"], "scenario 'nothing.toml': no such file"),
    (["run", "{dir}"], "is a directory, not a scenario .toml file"),
    (["run", "{binary}"], "{binary}"),
    (["run", "{broken}"], "{broken}"),
    (["run", "{deep}"], "{deep}"),
    (["run", "--policies", "default_brach"], "--policies: 'default_brach' is neither a policy "
                                             ".toml file nor a built-in policy set (did you "
                                             "mean 'default_branch'?)"),
    (["run", "--policies", "missing.toml"], "--policies: 'missing.toml': no such file"),
    (["run", "--policies", "{dir}"], "--policies: '{dir}' is a directory"),
    (["run", "--policies", "{binary}"],
     "--policies: {binary}: policy file is UTF-16 encoded; save it as UTF-8"),
    (["run", "--policies", "{deep}"],
     "--policies: {deep}: invalid policy file: tables or lists nested more than 32 levels"),
    (["run", "--policies", "{scenario}"], "{scenario}"),
    # output directories
    (["run", "--out", "{file}"], "--out: '{file}' is an existing file, not a directory"),
    (["run", "--out", "{file}/sub/dir"], "--out: cannot create '{file}/sub/dir': '{file}' is "
                                         "a file"),
    (["run", "--out", "/proc/peakend-test-out"], "--out: cannot create a directory in '/proc'"),
    (["run", "--out", ""], "--out: must name a directory, got an empty string"),
    (["run", "--out", "o" * 300], "--out: unusable path 'ooo"),
    (["run", "s" * 300 + ".toml"], "scenario: unusable path 'sss"),
    (["run", "--checkpoint", "{file}"], "--checkpoint: '{file}' is an existing file"),
    (["run", "--out", "a\x00b"], "--out: a path cannot contain a NUL character"),
    (["run", "x\x00.toml"], "scenario: a file name cannot contain a NUL character"),
    (["run", "--policies", "p\x00.toml"], "--policies: a file name cannot contain a NUL "
                                           "character"),
    # options and commands
    (["run", "--format", "xml"], "argument --format/-f: invalid choice: 'xml'"),
    (["run", "--formt", "csv"], "unrecognized arguments: --formt (did you mean '--format'?)"),
    (["rnu"], "invalid choice: 'rnu'"),
    (["shwo", "x"], "(did you mean 'show'?)"),
    (["scenarios", "--format", "yaml"], "argument --format/-f: invalid choice: 'yaml'"),
    # show
    (["show", "{scenario}"], "is not a peakend results file: it is a text file (a scenario or "
                             "policy .toml?)"),
    (["show", "{tmp}/missing.npz"], "results file '{tmp}/missing.npz' does not exist"),
    (["show", "{dir}"], "is not a file"),
    (["show", "{binary}"], "is not a peakend results file: it is not an .npz archive"),
    (["show", "{tmp}/missing.npz", "--out", "{file}"], "--out: '{file}' is an existing file"),
    # validate
    (["validate", "{binary}"], "{binary}: file is UTF-16 encoded; save it as UTF-8"),
    (["validate", "{deep}"], "{deep}: invalid file: tables or lists nested more than 32"),
    (["validate", "{broken}"], "{broken}: invalid TOML"),
    (["validate", "{pol}", "--scenario", "defaul_branch"], "(did you mean 'default_branch'?)"),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_argument_is_one_clear_error(tmp_path, capsys, tripwire, argv, message):
    paths = files(tmp_path)
    code = main(expand(argv, paths))
    err = capsys.readouterr().err
    assert code == 2, err
    assert expand([message], paths)[0] in err
    assert "Traceback" not in err and "internal error" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("usage:", " "))]
    assert len(lines) == 1, err


def test_nothing_written_when_refused(tmp_path, capsys, tripwire):
    out = tmp_path / "new" / "out"
    assert main(["run", "--rules", "nope", "--out", str(out)]) == 2
    assert not (tmp_path / "new").exists()
    capsys.readouterr()


# --------------------------------------------------------------------------- fuzzing
WEIRD = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["-1", "0", "1", "2", "1e9", str(2**70), "-0", "nan", "inf", "", " ",
                     "peak_end", "default_branch", "\x00", "../", "/", "~", "--", "-n", "é",
                     "a" * 300]),
)
OPTIONS = ["-n", "--replications", "--seed", "-s", "--workers", "-w", "--rules", "--policies",
           "--out", "--checkpoint", "--format", "-f", "--scenario", "--survey", "--report",
           "--no-progress"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["run", "show", "scenarios", "validate", "schema", "bogus", ""]),
       words=st.lists(st.one_of(st.sampled_from(OPTIONS), WEIRD), max_size=6))
def test_fuzzed_arguments_never_give_an_internal_error(tmp_path, monkeypatch, capsys, command,
                                                       words):
    def run(*args, **kwargs):
        raise ReachedSimulation

    monkeypatch.setattr(pe, "run", run)
    monkeypatch.chdir(tmp_path)
    argv = [command, *words] if command else words
    if "schema" in argv[:1] or "scenarios" in argv[:1]:
        argv = argv[:1] + [w for w in argv[1:] if w.startswith("-")]
    try:
        code = main(argv)
    except ReachedSimulation:
        code = 0
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, err)
    assert "internal error" not in err and "Traceback" not in err, (argv, err)


# --------------------------------------------------------------------------- pipes
def _peakend(*args: str) -> list[str]:
    return [sys.executable, "-m", "peakend.cli", *args]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("pipe")
    pol = out / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n")
    assert main(["run", "-n", "3", "-w", "1", "--no-progress", "--policies", str(pol),
                 "--out", str(out / "first")]) == 0
    return out


@pytest.mark.parametrize("kind", ["run", "show", "scenarios"])
def test_closed_pipe_ends_quietly_after_saving(saved, kind, capsys):
    capsys.readouterr()
    out = saved / f"piped-{kind}"
    if kind.startswith("run"):
        argv = ["run", "-n", "3", "-w", "1", "--policies", str(saved / "p.toml"),
                "--out", str(out), "--format", "csv"]
    elif kind == "show":
        argv = ["show", str(saved / "first" / "results.npz"), "--out", str(out)]
    else:
        argv = ["scenarios"]
    proc = subprocess.Popen(_peakend(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line: every print hits EPIPE
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err and "Exception" not in err, err
    if kind.startswith("run"):
        res = pe.load_results(out / "results.npz")
        assert res == pe.load_results(saved / "first" / "results.npz")
    if kind != "scenarios":
        assert (out / "comparison.csv").is_file() and (out / "rule_disagreement.csv").is_file()

