"""Consistency of the documentation site: nav, pages, API reference, executable examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml  # in the test extra: a missing package fails, never skips

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"


def _nav_files(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))


def test_every_nav_entry_exists(config):
    missing = [f for f in _nav_files(config["nav"]) if not (DOCS / f).is_file()]
    assert missing == []


def _snippet_fragments() -> set[str]:
    """Pages pulled into another page with the snippets syntax (fragments, not pages)."""
    included = set()
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r'^--8<--\s+"([^"]+)"', page.read_text(encoding="utf-8"),
                                 flags=re.MULTILINE):
            path = (ROOT / target).resolve()
            if path.is_relative_to(DOCS.resolve()):
                included.add(path.relative_to(DOCS.resolve()).as_posix())
    return included


def test_every_page_is_in_the_nav(config):
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    missing = sorted(pages - set(_nav_files(config["nav"])) - _snippet_fragments())
    assert missing == [], f"add these pages to the nav of mkdocs.yml: {missing}"


def test_nav_follows_diataxis(config):
    sections = [next(iter(item)) for item in config["nav"] if isinstance(item, dict)]
    order = ["Tutorial", "How-to guides", "Reference", "Background"]
    present = [s for s in sections if s in order]
    assert present == order


def test_api_reference_documents_every_public_submodule():
    import peakend

    api = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: peakend\.(\w+)", api, flags=re.MULTILINE))
    # cli is documented on its own page; the others must appear once their file exists
    expected = {
        name
        for name in peakend._SUBMODULES
        if name != "cli"
        and ((ROOT / "peakend" / f"{name}.py").is_file()
             or (ROOT / "peakend" / name / "__init__.py").is_file())
    }
    assert sorted(expected - documented) == []


def test_images_referenced_by_pages_exist():
    missing = []
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if not target.startswith("http") and not (page.parent / target).resolve().is_file():
                missing.append(f"{page.relative_to(DOCS)} -> {target}")
    assert missing == []


def test_peak_end_page_examples_give_the_documented_numbers():
    """The numbers quoted on the background page come from the library, not by hand."""
    import numpy as np

    import peakend as pe

    affect = np.array([-2.0, -8.0, -7.0, -2.0, -8.0, -5.0, -3.0, -1.0])
    offsets = np.array([0, 3, 8])
    assert pe.score(affect, offsets).tolist() == [-7.5, -4.5]
    assert pe.score(affect, offsets, rule="integral").tolist() == [-17.0, -19.0]
    cold = np.array([-8.0, -8.0, -5.0])
    off = np.array([0, 1, 3])
    dur = np.array([1.0, 1.0, 0.5])
    assert pe.score(cold, off, durations=dur).tolist() == [-8.0, -6.5]
    assert pe.score(cold, off, durations=dur, rule="integral").tolist() == [-8.0, -10.5]
    assert pe.score(cold, off, durations=dur, rule="time_weighted_mean").tolist() == [-8.0, -7.0]
    page = (DOCS / "background" / "peak-end.md").read_text(encoding="utf-8")
    for quoted in ("[-7.5, -4.5]", "[-17., -19.]", "[-8.0, -6.5]", "[-8.0, -10.5]"):
        assert quoted in page


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_tutorial_code_runs_as_written(tmp_path, monkeypatch):
    """Every python block of the tutorial, in order, in one namespace (as a reader would)."""
    blocks = _python_blocks(DOCS / "tutorial" / "branch-walkthrough.md")
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)  # the tutorial saves a figure in the working directory
    namespace: dict = {"__name__": "__tutorial__"}
    for block in blocks:
        exec(compile(block, "branch-walkthrough.md", "exec"), namespace)
    assert (tmp_path / "journey.png").is_file()
    table = namespace["table"]
    assert set(table["policy"]) == {"lunch_teller"}
    assert {"all", "vip", "gold", "ordinary"} <= set(table["segment"])
    # the prose of the tutorial states these facts about its own output
    import numpy as np

    c, gold, ordinary = namespace["c"], namespace["gold"], namespace["ordinary"]
    assert np.nanmean(c["remembered"][gold]) < np.nanmean(c["remembered"][ordinary]) - 1.0
    assert c["wait"][gold].mean() < c["wait"][ordinary].mean() + 2.0  # "not much longer"
    diff = dict(zip(table["segment"], table["difference"], strict=True))
    low = dict(zip(table["segment"], table["low"], strict=True))
    assert low["gold"] > 0 and low["ordinary"] > 0  # the lunch teller helps them
    assert diff["vip"] == 0.0  # VIPs, at their own window, are unaffected
    import matplotlib.pyplot as plt

    plt.close("all")


def test_how_to_figure_recipe_runs(tmp_path, monkeypatch):
    blocks = _python_blocks(DOCS / "how-to" / "index.md")
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__how_to__"}
    for block in blocks:
        exec(compile(block, "how-to/index.md", "exec"), namespace)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    import matplotlib.pyplot as plt

    plt.close("all")


def test_every_notebook_is_built_by_the_builder_without_outputs():
    """Committed notebooks match notebooks/build_notebooks.py and carry no outputs."""
    import importlib.util

    import nbformat
    spec = importlib.util.spec_from_file_location(
        "build_notebooks", ROOT / "notebooks" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk == sorted(builder.NOTEBOOKS)
    for name, cells in builder.NOTEBOOKS.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in cells], name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


def test_delta_law_page_table_matches_the_value_function():
    import numpy as np

    import peakend as pe

    gaps = np.array([4.0, 2.0, 0.0, -2.0, -4.0])
    prospect = np.round(pe.affect.value(gaps), 1)
    linear = np.round(pe.affect.value(gaps, kind="linear"), 1)
    page = (DOCS / "background" / "delta-law.md").read_text(encoding="utf-8")
    for gap, lin, pro in zip(gaps, linear, prospect, strict=True):
        row = f"| {gap:+.0f} | {lin:+.1f} | {pro:+.1f} |".replace("+0 |", "0 |").replace(
            "+0.0 |", "0.0 |")
        assert row in page, row
