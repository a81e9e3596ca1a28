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
