"""pytest configuration of the notebooks folder.

Each notebook is executed once per CI run, by the documentation build (mkdocs-jupyter with
``execute: true`` and ``allow_errors: false`` in ``mkdocs.yml``): a failing cell, including a
notebook's closing cell that asserts what its prose claims, fails ``mkdocs build --strict``,
and the site shows every output. So that they do not run twice, pytest does not collect them;
set ``PEAKEND_TEST_NOTEBOOKS=1`` to run them with nbmake instead (``pytest --nbmake notebooks``).
"""

import os

collect_ignore_glob = [] if os.environ.get("PEAKEND_TEST_NOTEBOOKS") else ["*.ipynb"]
