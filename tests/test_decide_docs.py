"""The decisions how-to runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def test_how_to_decisions_runs_as_written(tmp_path, monkeypatch, capsys):
    import warnings

    page = ROOT / "docs" / "how-to" / "decisions.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 9
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__how_to__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for block in blocks:
            exec(compile(block, str(page), "exec"), namespace)
    out = capsys.readouterr().out
    assert "staffing plan" in out and "did you mean 'wait_mean'" in out
    plan = namespace["plan"]
    assert set(plan.tellers) == {"general", "vip"} and len(plan.tellers["general"]) == 3
    staged = namespace["staged"]
    assert list(staged.tellers) == ["general", "vip", "advisor/rm"]
    assert "policy paths: advisor/rm = stages.advisor.counters.rm.tellers" in out
    rm = staged.policy.apply(namespace["advisors"]).stages["advisor"].counters["rm"]
    assert rm.tellers == staged.tellers["advisor/rm"][0]
    assert namespace["best"].best == "c6"
    assert namespace["auto"].auto.converged
    assert set(namespace["sa"].indices["parameter"]) == {
        "arrivals.scale", "segments.ordinary.expected_wait", "memory.rule"}
