"""run's progress bar: a widget in a Jupyter kernel with ipywidgets, else text, never a warning."""

import warnings

import nbformat
import pytest
from nbclient import NotebookClient

from peakend.experiment import _progress


def test_bar_outside_a_notebook_is_the_text_bar_without_monitor_thread():
    from tqdm import std
    from tqdm.notebook import tqdm as notebook_tqdm

    assert not _progress.in_jupyter_kernel()  # pytest is not a kernel
    for cls in (_progress.bar_class(), _progress.bar_class(notebook=False)):
        assert issubclass(cls, std.tqdm) and not issubclass(cls, notebook_tqdm)
        assert cls.monitor_interval == 0


def test_bar_in_a_notebook_with_ipywidgets_is_the_widget():
    from tqdm.notebook import tqdm as notebook_tqdm

    cls = _progress.bar_class(notebook=True)
    assert issubclass(cls, notebook_tqdm) and cls.monitor_interval == 0


def test_bar_in_a_notebook_without_ipywidgets_is_text_and_silent(monkeypatch):
    from tqdm import std
    from tqdm.notebook import tqdm as notebook_tqdm

    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)  # not importable
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "IProgress not found" would fail here
        cls = _progress.bar_class(notebook=True)
    assert issubclass(cls, std.tqdm) and not issubclass(cls, notebook_tqdm)


CELLS = [
    "import sys, warnings\nwarnings.simplefilter('always')\nimport peakend as pe\n"
    "s = pe.scenarios.mmc(1.0, 0.5, 3, 1)\n"
    "from peakend.experiment._progress import in_jupyter_kernel\nprint(in_jupyter_kernel())",
    "res = pe.run(s, replications=3, seed=1, progress=True)",
    "sys.modules['ipywidgets'] = None  # as if ipywidgets were not installed\n"
    "res = pe.run(s, replications=3, seed=1, progress=True)",
]


@pytest.mark.slow
def test_in_a_jupyter_kernel_the_bar_is_a_widget_or_silent_text():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    first, widget, text = (cell.outputs for cell in nb.cells)
    assert [o.get("text", "").strip() for o in first] == ["True"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for o in widget), widget
    errors = "".join(o.get("text", "") for o in widget + text if o.get("name") == "stderr")
    assert "IProgress" not in errors and "Warning" not in errors, errors
    assert "peakend run" in "".join(o.get("text", "") for o in text)  # the text bar
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for o in text)
