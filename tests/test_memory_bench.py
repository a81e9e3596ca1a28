"""The scoring benchmark script runs on a tiny input, so it cannot rot unnoticed (no timings)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_memory.py"


def test_bench_memory_runs_and_reports_medians_with_ranges(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = importlib.util.spec_from_file_location("bench_memory", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_memory"] = module
    try:
        spec.loader.exec_module(module)
        args = ["--n", "3000", "--loop-n", "300", "--repeat", "2", "--engines", "numpy"]
        assert module.main(args) == 0
    finally:
        del sys.modules["bench_memory"]
    out = capsys.readouterr().out
    assert "2 interleaved rounds" in out
    assert "| `peak_end [numpy]` |" in out
    assert "| NumPy per journey |" in out and "| Python floats |" in out
    assert "targets (medians over rounds)" in out
