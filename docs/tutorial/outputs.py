"""Run the tutorial pages' code and write what each block prints below it.

Every ```python block of a page runs in order, in one namespace, as a reader would run
it; what a block prints is written right after it as a ```text title="Output" block
(replacing the one there). ``tests/test_docs.py`` runs the same function and fails when a
page's output blocks are not what its code prints. Regenerate after changing the library:

    python docs/tutorial/outputs.py            # every page of TUTORIAL_PAGES, in place
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TUTORIAL_PAGES = ("branch-walkthrough.md", "explore.md", "report.md")

_BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n```text title=\"Output\"\n.*?```\n)?",
                    flags=re.DOTALL)


def run_page(page: Path, workdir: Path) -> tuple[str, dict]:
    """Return the page's text with fresh output blocks, and the namespace its code left.

    The code runs with ``workdir`` as the working directory (figures and reports it
    saves land there) and the Agg backend for matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    text = page.read_text(encoding="utf-8")
    namespace: dict = {"__name__": f"__{page.stem}__"}
    out: list[str] = []
    last = 0
    old = Path.cwd()
    os.chdir(workdir)
    try:
        for match in _BLOCK.finditer(text):
            code = match.group(1)
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, page.name, "exec"), namespace)
            printed = buffer.getvalue()
            out.append(text[last:match.start()])
            out.append(f"```python\n{code}```\n")
            if printed.strip():
                out.append(f'\n```text title="Output"\n{printed.rstrip()}\n```\n')
            last = match.end()
    finally:
        os.chdir(old)
        import matplotlib.pyplot as plt

        plt.close("all")
    out.append(text[last:])
    return "".join(out), namespace


if __name__ == "__main__":
    import tempfile

    names = sys.argv[1:] or TUTORIAL_PAGES
    for name in names:
        page = HERE / name
        with tempfile.TemporaryDirectory() as tmp:
            new, _ = run_page(page, Path(tmp))
        if new != page.read_text(encoding="utf-8"):
            page.write_text(new, encoding="utf-8")
            print(f"updated {page.relative_to(HERE.parents[1])}")
