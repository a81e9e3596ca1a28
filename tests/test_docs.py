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


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's loader: ``!ENV [NAME, default]`` reads as its default."""


_Loader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.load(MKDOCS.read_text(encoding="utf-8"), Loader=_Loader)


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


def _tutorial_outputs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tutorial_outputs",
                                                  DOCS / "tutorial" / "outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_tutorial_page(name: str, tmp_path) -> dict:
    """Run a tutorial page's code; its output blocks must be exactly what the code prints."""
    outputs = _tutorial_outputs()
    page = DOCS / "tutorial" / name
    fresh, namespace = outputs.run_page(page, tmp_path)
    assert fresh == page.read_text(encoding="utf-8"), (
        f"the output blocks of docs/tutorial/{name} are not what its code prints: run "
        f"python docs/tutorial/outputs.py {name}")
    return namespace


def test_every_tutorial_page_is_checked_and_shows_its_output():
    outputs = _tutorial_outputs()
    pages = {p.name for p in (DOCS / "tutorial").glob("*.md")} - {"index.md"}
    assert pages == set(outputs.TUTORIAL_PAGES)
    for name in outputs.TUTORIAL_PAGES:
        text = (DOCS / "tutorial" / name).read_text(encoding="utf-8")
        # every step that prints shows what it prints
        assert text.count('```text title="Output"') >= 1, name


def test_tutorial_code_runs_as_written(tmp_path):
    """Every python block of the tutorial, in order, in one namespace (as a reader would)."""
    blocks = _python_blocks(DOCS / "tutorial" / "branch-walkthrough.md")
    assert len(blocks) >= 6
    namespace = _run_tutorial_page("branch-walkthrough.md", tmp_path)
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


def test_tutorial_explore_page_runs_and_shows_its_output(tmp_path):
    namespace = _run_tutorial_page("explore.md", tmp_path)
    summary = namespace["app"].summary.set_index("segment")
    # the prose: VIPs exactly unaffected, the others significantly better
    assert summary.loc["vip", "difference"] == 0.0
    assert summary.loc["gold", "significant"] and summary.loc["ordinary", "significant"]


def test_tutorial_report_page_runs_and_writes_the_report(tmp_path):
    _run_tutorial_page("report.md", tmp_path)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<title>Lunch staffing and the end of the visit</title>" in text
    # the sections the page lists, in its order
    order = ["id='what'", "id='findings'", "id='policies'", "id='comparison'", "id='cost'",
             "id='rules'", "id='headline'", "id='scenario'", "id='reproduce'"]
    positions = [text.index(a) for a in order]
    assert positions == sorted(positions)


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
    """Committed notebooks match notebooks/build_notebooks.py and carry no outputs.

    They are executed once per CI run, by the docs build (mkdocs-jupyter), not by pytest.
    """
    import importlib.util

    import nbformat
    built = {}
    # the calibration notebook has a builder of its own
    for script in ("build_notebooks.py", "build_calibration_notebook.py"):
        spec = importlib.util.spec_from_file_location(
            script.removesuffix(".py"), ROOT / "notebooks" / script)
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        assert not set(built) & set(builder.NOTEBOOKS), script
        built.update(builder.NOTEBOOKS)
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk == sorted(built)
    for name, cells in built.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in cells], name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name



def _builder_notebooks() -> dict:
    """Cells of every notebook, by name, from the two builder scripts."""
    import importlib.util

    built = {}
    for script in ("build_notebooks.py", "build_calibration_notebook.py"):
        spec = importlib.util.spec_from_file_location(
            script.removesuffix(".py"), ROOT / "notebooks" / script)
        builder = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(builder)
        built.update(builder.NOTEBOOKS)
    return built


def _code(cells) -> str:
    return "\n".join(c.source for c in cells if c.cell_type == "code")


def test_every_multi_stage_builtin_has_a_what_if_notebook():
    """Each built-in scenario with several stages has a notebook running its policy set."""
    import peakend as pe

    built = _builder_notebooks()
    multi = sorted(p.stem for p in (ROOT / "peakend" / "scenarios").glob("*.toml")
                   if pe.load_scenario(p.stem).stages)
    assert {"branch_with_advisors", "clinic"} <= set(multi)
    for name in multi:
        assert (ROOT / "peakend" / "scenarios" / "policies" / f"{name}.toml").is_file(), name
        users = [nb for nb, cells in built.items()
                 if f'pe.load_scenario("{name}")' in _code(cells)
                 and f'load_policies("{name}")' in _code(cells)
                 and "pe.run(" in _code(cells) and "stage_visits" in _code(cells)]
        assert users, f"no notebook runs the policy set of {name} and reads its stage visits"


def test_what_if_notebooks_end_by_checking_their_claims():
    """Every notebook but the quick start ends with a cell asserting what its prose claims."""
    built = _builder_notebooks()
    assert {"09_wealth_clients_and_advisors", "10_clinic_triage_doctor_pharmacy"} <= set(built)
    for name, cells in built.items():
        if name == "01_quick_start":
            continue
        last = cells[-1]
        assert last.cell_type == "code" and last.source.count("assert ") >= 2, name
        claims = cells[-2]
        assert claims.cell_type == "markdown" and "claims" in claims.source, name


def test_notebooks_use_the_public_api_only():
    """No notebook reaches into a private module or name of peakend."""
    private = re.compile(r"\bpe\.(?:\w+\.)*_\w|peakend(?:\.\w+)*\._\w|from peakend\S* import _")
    offenders = {name: private.findall(_code(cells))
                 for name, cells in _builder_notebooks().items()}
    assert {name: found for name, found in offenders.items() if found} == {}
    # the check itself can fail
    assert private.search("pe.experiment._run.run(s)") and private.search("import peakend._kernels")
    assert not private.search("pe.experiment.load_policies(s); pe.stats.paired_difference(a, b)")


def test_notebook_markdown_links_no_docs_page_by_file():
    """mkdocs-jupyter does not rewrite links in notebooks: a link to a .md file would break."""
    link = re.compile(r"\]\((?!https?://)[^)\s]*\.md(?:#[^)]*)?\)")
    found = {name: link.findall("\n".join(c.source for c in cells if c.cell_type == "markdown"))
             for name, cells in _builder_notebooks().items()}
    assert {name: links for name, links in found.items() if links} == {}
    assert link.search("see [rules](../how-to/fit-memory-rules.md)")
    assert not link.search("see [the paper](https://example.org/a.md) and [x](page/)")

def test_every_notebook_is_a_page_of_the_site_executed_once(config):
    """The notebooks appear in the site with their outputs: executed by the docs build only."""
    notebooks = sorted(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(f for f in _nav_files(config["nav"]) if f.endswith(".ipynb")) == notebooks
    assert (DOCS / "notebooks").resolve() == (ROOT / "notebooks").resolve()
    plugin = next(p["mkdocs-jupyter"] for p in config["plugins"]
                  if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert plugin["execute"] is True and plugin["allow_errors"] is False
    assert plugin["cache"] is False  # CI: never outputs of an older library
    # and pytest does not execute them a second time
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          str(ROOT / "notebooks")], capture_output=True, text=True,
                         cwd=ROOT, env={**__import__("os").environ,
                                        "PEAKEND_TEST_NOTEBOOKS": ""})
    assert ".ipynb" not in out.stdout


def test_api_page_starts_with_simulate_run_and_score():
    api = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    directives = re.findall(r"^::: ([\w.]+)", api, flags=re.MULTILINE)
    assert directives[:3] == ["peakend.sim.simulate", "peakend.experiment.run",
                              "peakend.memory.score"]
    # rendered once only: filtered out of their modules' sections
    for module, name in (("sim", "simulate"), ("experiment", "run"), ("memory", "score")):
        section = api.split(f"::: peakend.{module}\n", 1)[1].split(":::", 1)[0]
        assert f"!^{name}$" in section


# -------------------------------------------------- reST roles in docstrings


@pytest.fixture(scope="module")
def rest_roles():
    import importlib.util

    spec = importlib.util.spec_from_file_location("rest_roles", DOCS / "assets" / "rest_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def loaded_package(rest_roles):
    import griffe

    extension = rest_roles.RestRoles(api=str(DOCS / "reference" / "api.md"))
    package = griffe.load("peakend", search_paths=[str(ROOT)],
                          extensions=griffe.load_extensions(extension))
    return package, extension


def test_docstring_roles_become_cross_references_or_plain_code(loaded_package, rest_roles):
    package, extension = loaded_package
    assert extension.converted > 100  # the package's docstrings use many roles
    remaining = []

    def walk(obj):
        if obj.docstring is not None and rest_roles.ROLE.search(obj.docstring.value):
            remaining.append(obj.path)
        for member in obj.members.values():
            if not member.is_alias:
                walk(member)

    walk(package)
    assert remaining == []
    simulate = package["sim.model.simulate"].docstring.value
    assert "[`~peakend.config.Scenario`]" not in simulate  # the tilde shows the last name only
    assert "[`Scenario`][peakend.config.Scenario]" in simulate
    # a relative name resolves against the object's class and module
    load = package["experiment._results.Results.load"].docstring.value
    assert "[`load_results`][peakend.experiment.load_results]" in load


def test_roles_to_objects_not_rendered_become_plain_code(loaded_package):
    package, extension = loaded_package
    collection = package.modules_collection
    obj = package["plots"]
    # private helpers and third-party names are not on the API page: no dangling reference
    assert extension.convert(":func:`_shape`", obj, collection) == "`_shape`"
    assert extension.convert(":class:`pandas.DataFrame`", obj, collection) == (
        "`pandas.DataFrame`")
    # lazy top-level names (pe.run) resolve to where the API page renders them
    assert extension.convert(":func:`peakend.run`", obj, collection) == (
        "[`peakend.run`][peakend.experiment.run]")
    assert extension.convert(":func:`~peakend.run`", obj, collection) == (
        "[`run`][peakend.experiment.run]")


def test_the_site_check_fails_on_a_literal_role(tmp_path):
    import subprocess
    import sys

    (tmp_path / "ok.html").write_text("<p>see <a href='#x'><code>run</code></a></p>")
    check = [sys.executable, str(ROOT / ".ci" / "check_site.py"), str(tmp_path)]
    assert subprocess.run(check, capture_output=True).returncode == 0
    (tmp_path / "bad.html").write_text("<p>see :func:<code>peakend.run</code></p>")
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 1 and "bad.html" in result.stderr


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


def test_architecture_paths_exist():
    """Every ``peakend/...`` path the architecture page cites is a file or folder of the tree."""
    page = (DOCS / "background" / "architecture.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"\bpeakend/[\w./<>*-]*\w/?", page))
    cited = {c for c in cited if "<" not in c and "*" not in c}
    assert len(cited) >= 40, f"the page should cite the modules it describes, found {len(cited)}"
    missing = sorted(c for c in cited if not (ROOT / c).exists())
    assert missing == [], f"the architecture page cites paths that do not exist: {missing}"


def test_architecture_page_names_every_module():
    """Every module of peakend/ (one level into its packages) appears on the architecture page."""
    page = (DOCS / "background" / "architecture.md").read_text(encoding="utf-8")
    modules = [p for p in (ROOT / "peakend").glob("*.py")] + [
        p for p in (ROOT / "peakend").glob("*/*.py") if p.name != "__init__.py"
    ]
    packages = [p for p in (ROOT / "peakend").iterdir()
                if p.is_dir() and (p / "__init__.py").is_file()]
    rel = [p.relative_to(ROOT).as_posix() for p in modules]
    rel += [p.relative_to(ROOT).as_posix() + "/" for p in packages]
    # a package whose modules are described in one row (calibrate/) names them by file name
    missing = sorted(r for r in rel if r not in page
                     and not (Path(r).name in page and Path(r).parent.as_posix() + "/" in page))
    assert missing == [], f"describe these modules on docs/background/architecture.md: {missing}"
