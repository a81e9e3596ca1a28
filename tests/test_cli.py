"""End-to-end tests of the ``peakend`` command: exit codes, output files, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.cli import DEFAULT_REPLICATIONS, main

BUILTIN = Path(pe.__file__).parent / "scenarios" / "default_branch.toml"


def bad_scenario(tmp_path, old, new):
    text = BUILTIN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def one_line_error(capsys):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_run_builtin_policy_set_writes_results_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "-n", "3", "--workers", "1", "--out", str(out), "--no-progress"])
    assert code == 0
    stdout = capsys.readouterr().out
    policies = [p.name for p in pe.experiment.load_policies("default_branch")]
    for name in policies:
        assert name in stdout
    assert "remembered" in stdout and "Pareto-efficient" in stdout
    for f in ("results.npz", "comparison.png", "pareto.png", "comparison.csv", "summary.csv",
              "compare.csv"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    res = pe.load_results(out / "results.npz")
    assert res.policies == tuple(policies) and res.n_replications == 3
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_is_reproducible_and_worker_independent(tmp_path):
    args = ["run", "-n", "3", "--seed", "4", "--no-progress", "--policies"]
    pol = tmp_path / "p.toml"
    pol.write_text('[baseline]\n[display]\nchanges.hall.wait_display = true\n')
    assert main([*args, str(pol), "--workers", "1", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, str(pol), "--workers", "2", "--out", str(tmp_path / "b")]) == 0
    a = pe.load_results(tmp_path / "a" / "results.npz")
    b = pe.load_results(tmp_path / "b" / "results.npz")
    assert a == b and a.policies == ("baseline", "display") and a.seed == 4
    assert np.all(a.get("n_customers")[0] > 0)


def test_rules_option(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n")
    args = ["run", "-n", "3", "--workers", "1", "--no-progress", "--policies", str(pol)]
    assert main([*args, "--rules", "end,integral", "--out", str(tmp_path / "o")]) == 0
    res = pe.load_results(tmp_path / "o" / "results.npz")
    assert res.rules == ("end", "integral") and "remembered value (end" in capsys.readouterr().out
    assert main([*args, "--rules", "peak_end,nope", "--out", str(tmp_path / "x")]) == 2
    assert "nope" in one_line_error(capsys)


def test_default_replications_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "cli.md").read_text()
    assert f"--replications N` | {DEFAULT_REPLICATIONS}" in doc


def test_bad_policy_file_is_one_line(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("[more]\nchanges.counters.general.tellers = -2\n")
    code = main(["run", "--policies", str(pol), "-n", "2", "--out", str(tmp_path / "o")])
    assert code == 2
    line = one_line_error(capsys)
    assert "'more'" in line and "counters.general.tellers" in line
    assert not (tmp_path / "o").exists()


def test_bad_scenario_file_is_one_line(tmp_path, capsys):
    path = bad_scenario(tmp_path, 'closing = "17:00"', 'closing = "08:00"')
    assert main(["run", str(path), "-n", "2", "--out", str(tmp_path / "o")]) == 2
    assert "closing" in one_line_error(capsys)
    assert main(["run", "no_such_scenario", "-n", "2"]) == 2
    assert "no_such_scenario" in one_line_error(capsys)
    assert main(["run", "-n", "0"]) == 2
    assert "--replications" in one_line_error(capsys)


def test_debug_shows_the_exception(tmp_path):
    from peakend.cli import CliError

    with pytest.raises(CliError, match="no_such_scenario"):
        main(["run", "no_such_scenario", "--debug"])
    with pytest.raises(pe.experiment.ResultsFileError, match="does not exist"):
        main(["show", str(tmp_path / "missing.npz"), "--debug"])


def test_usage_errors_exit_2(capsys):
    assert main(["run", "--replications", "many"]) == 2
    assert main(["frobnicate"]) == 2
    assert main([]) == 2
    capsys.readouterr()


def test_validate_scenario(tmp_path, capsys):
    assert main(["validate", str(BUILTIN)]) == 0
    assert "valid scenario 'default_branch'" in capsys.readouterr().out
    path = bad_scenario(tmp_path, "tellers = 4", "tellers = -4")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "counters.general" in err and "tellers" in err and "Traceback" not in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[segments\n")
    assert main(["validate", str(broken)]) == 2
    assert "invalid TOML" in one_line_error(capsys)
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert main(["validate", str(tmp_path)]) == 2  # a directory
    assert "is not a file" in one_line_error(capsys)


def test_validate_policy_file(tmp_path, capsys):
    builtin = Path(pe.__file__).parent / "scenarios" / "policies" / "default_branch.toml"
    assert main(["validate", str(builtin)]) == 0
    assert "valid policy file" in capsys.readouterr().out
    pol = tmp_path / "p.toml"
    pol.write_text("[ok]\nchanges.hall.distraction = true\n"
                   "[bad]\nchanges.hall.distraction_multiplier = -1\n"
                   "[typo]\nchanges.hal.distraction = true\n")
    assert main(["validate", str(pol)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "'bad'" in err[0] and "hall.distraction_multiplier" in err[0]
    assert "'typo'" in err[1] and "hal" in err[1]


def test_scenarios_and_schema(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "default_branch" in out and "[policy set]" in out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "segments" in schema["properties"]


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "peakend.cli", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"peakend {pe.__version__}"
    proc = subprocess.run([sys.executable, "-m", "peakend.cli", "validate", "nope.toml"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_run_with_checkpoint_resumes(tmp_path, capsys):
    args = ["run", "-n", "3", "--workers", "1", "--no-progress", "--checkpoint",
            str(tmp_path / "ck"), "--policies"]
    pol = tmp_path / "p.toml"
    pol.write_text('[baseline]\n[gift]\ncompose = ["baseline"]\n'
                   'changes.segments.gold.farewell.enabled = true\n')
    assert main([*args, str(pol), "--out", str(tmp_path / "a")]) == 0
    assert len(list((tmp_path / "ck" / "done").glob("p*.npz"))) == 6
    assert main([*args, str(pol), "--out", str(tmp_path / "b")]) == 0
    a = pe.load_results(tmp_path / "a" / "results.npz")
    assert a == pe.load_results(tmp_path / "b" / "results.npz")
    assert main([*args, str(pol), "--seed", "1", "--out", str(tmp_path / "c")]) == 2
    assert "different arguments: seed" in capsys.readouterr().err


def test_cli_default_rules_match_the_library():
    from peakend import cli, experiment

    assert cli.DEFAULT_RULES == experiment.DEFAULT_RULES


def test_show_saved_results(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n")
    assert main(["run", "-n", "3", "--workers", "1", "--no-progress", "--policies", str(pol),
                 "--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out
    assert main(["show", str(tmp_path / "a" / "results.npz"), "--out", str(tmp_path / "b")]) == 0
    shown = capsys.readouterr().out
    table = first.split("\nPareto")[0]
    assert table in shown and "2 policies x 3 replications" in shown
    assert (tmp_path / "b" / "comparison.png").is_file()
    assert main(["show", str(tmp_path / "missing.npz")]) == 2
    assert "does not exist" in one_line_error(capsys)


# --------------------------------------------------------------------------- tables and formats
@pytest.fixture(scope="module")
def two_policies(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    pol = out / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n"
                   "[gift]\nchanges.segments.gold.farewell.enabled = true\n")
    assert main(["run", "-n", "4", "--workers", "1", "--no-progress", "--policies", str(pol),
                 "--out", str(out / "a")]) == 0
    return out / "a"


def test_files_have_typeable_columns_and_the_full_disagreement_list(two_policies):
    import pandas as pd

    res = pe.load_results(two_policies / "results.npz")
    comparison = pd.read_csv(two_policies / "comparison.csv")
    assert list(comparison.columns) == [
        "policy", "segment", "remembered", "half_width", "difference", "low", "high",
        "significant", "wait_mean", "abandonment_rate", "cost"]
    assert len(comparison) == len(res.policies) * len(res.segments)
    assert comparison["difference"][comparison["policy"] == "baseline"].isna().all()
    cmp = res.compare(res.policies[0], res.headline_rule)
    merged = comparison.merge(cmp, on=["policy", "segment"], suffixes=("", "_cmp"))
    assert (merged["significant"].astype(bool) == merged["significant_cmp"]).all()
    dis = pd.read_csv(two_policies / "rule_disagreement.csv")
    assert list(dis.columns) == list(res.rule_disagreement().columns)
    assert len(dis) == len(res.rule_disagreement())  # all pairs, not only the significant ones
    pareto = pd.read_csv(two_policies / "pareto.csv")
    assert set(pareto["policy"]) == set(res.policies)


def test_text_table_has_one_format_per_column(two_policies, capsys):
    assert main(["show", str(two_policies / "results.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = lines[2].split()
    assert head[:3] == ["policy", "segment", "remembered"]
    rows = [ln.split() for ln in lines[3:] if ln.strip() and not ln.startswith(("Pareto", "Mem"))]
    rows = [r for r in rows if len(r) == len(head)]
    assert len(rows) == 3 * 4
    for j, name in enumerate(head):
        cells = [r[j] for r in rows if r[j] not in ("-", "yes", "no")]
        if name in ("remembered", "half_width", "difference", "low", "high"):
            assert cells and all(len(c.split(".")[1]) == 2 for c in cells), (name, cells)
        if name == "abandonment_rate":
            assert all(len(c.split(".")[1]) == 3 for c in cells), cells
        if name == "cost":
            assert all("." not in c for c in cells), cells


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_format_prints_only_the_table(two_policies, capsys, fmt):
    import io

    import pandas as pd

    assert main(["show", str(two_policies / "results.npz"), "--format", fmt]) == 0
    captured = capsys.readouterr()
    text = captured.out
    frame = pd.read_csv(io.StringIO(text)) if fmt == "csv" else pd.read_json(io.StringIO(text))
    expected = pd.read_csv(two_policies / "comparison.csv")
    assert list(frame.columns) == list(expected.columns) and len(frame) == len(expected)
    np.testing.assert_allclose(frame["remembered"], expected["remembered"], rtol=1e-12)
    assert "Results: 3 policies" in captured.err and "Pareto" not in text


def test_scenarios_as_csv(capsys):
    assert main(["scenarios", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,description,policy_set"
    assert any(ln.startswith("default_branch,") and ln.endswith(",True") for ln in lines)


def test_closed_day_gives_a_table_with_a_footnote(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text('[baseline]\n[closed]\nchanges.arrivals.profile = [{ start = "09:00", '
                   'rate = 0 }]\n')
    assert main(["run", "-n", "3", "-w", "1", "--no-progress", "--policies", str(pol),
                 "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "no customers in any replication for closed (every segment)" in captured.out
    assert "NaN" not in captured.err and "Warning" not in captured.err
    res = pe.load_results(tmp_path / "o" / "results.npz")
    assert np.all(res.get("n_customers", "all", "closed") == 0)
    assert (tmp_path / "o" / "pareto.png").is_file()  # the baseline's point is still drawn


def test_report_option_writes_report_html(tmp_path, capsys, monkeypatch):
    import sys
    import types

    fake = types.ModuleType("peakend.report")
    seen = []

    def write_report(results, path, **kwargs):
        Path(path).write_text("<html>report</html>")
        seen.append(results)
        return Path(path)

    fake.write_report = write_report
    monkeypatch.setitem(sys.modules, "peakend.report", fake)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    assert main(["run", "-n", "3", "-w", "1", "--no-progress", "--report",
                 "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "report.html").read_text() == "<html>report</html>"
    assert seen and seen[0] == pe.load_results(tmp_path / "o" / "results.npz")
    assert "report.html" in capsys.readouterr().out


def test_validate_accepts_an_empty_baseline_table(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n")
    assert main(["validate", str(pol)]) == 0
    assert "valid policy file (2 policies" in capsys.readouterr().out


def test_too_few_replications_for_an_interval_are_explained(tmp_path, capsys):
    pol = tmp_path / "p.toml"
    pol.write_text("[baseline]\n[display]\nchanges.hall.wait_display = true\n")
    assert main(["run", "-n", "2", "-w", "1", "--no-progress", "--policies", str(pol),
                 "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "with 2 replication(s) no interval or test is computed (it needs at least 3)" in out
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("display ")]
    assert rows and all(r[7] == "-" for r in rows)  # significant: no test, not "no"
