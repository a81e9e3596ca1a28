"""The README stays true: its links exist and it has the two set-up commands CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_relative_links_and_images_exist():
    targets = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [t for t in targets if "://" not in t]
    assert local, "the README should link to the docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == []


def test_two_setup_commands_marked_for_ci():
    commands = {}
    for marker in ("main", "test"):
        after = README.split(f"<!-- ci:{marker} -->", 1)
        assert len(after) == 2, f"README lacks the <!-- ci:{marker} --> marker"
        line = next(x for x in after[1].splitlines() if x.startswith("python"))
        commands[marker] = line
    assert commands["test"].endswith("pytest")
    assert 'pip install ".[test]"' in commands["test"]
    assert commands["main"].endswith("peakend run")


def test_python_examples_run_as_written(tmp_path, monkeypatch):
    """The README's Python blocks run in order, in one namespace, and print what they say."""
    import numpy as np

    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    pe = namespace["pe"]
    np.testing.assert_allclose(
        pe.score(namespace["affect"], namespace["offsets"]), [-7.5, -4.5]
    )
    assert len(namespace["day"]) > 100
    assert "baseline" in {p.name for p in namespace["policies"]}
