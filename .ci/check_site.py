"""Fail when a built documentation site shows a literal reST role (``:func:`` and kin).

Docstrings use Sphinx roles; ``docs/assets/rest_roles.py`` turns them into cross-references
when mkdocs builds the site. This check, run by ``.ci/run`` after ``mkdocs build``, reads
every HTML page of the built site and fails, naming page and context, if a marker is left.

    python .ci/check_site.py SITE_DIR
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

MARKER = re.compile(r":(?:py:)?(?:func|class|meth|attr|data|mod|obj|exc|const|ref|term):")
TAG = re.compile(r"<[^>]+>")


def markers(site: Path) -> list[str]:
    """Return ``"page: ...context..."`` for every role marker in the site's HTML text."""
    found = []
    for page in sorted(site.rglob("*.html")):
        text = html.unescape(TAG.sub("", page.read_text(encoding="utf-8", errors="replace")))
        for m in MARKER.finditer(text):
            context = " ".join(text[max(0, m.start() - 40):m.end() + 40].split())
            found.append(f"{page.relative_to(site)}: ...{context}...")
    return found


def main(argv: list[str]) -> int:
    """Check the site directory ``argv[0]``; return the exit status."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python .ci/check_site.py SITE_DIR", file=sys.stderr)
        return 2
    site = Path(argv[0])
    pages = list(site.rglob("*.html"))
    if not pages:
        print(f"check_site: no HTML pages in {site}", file=sys.stderr)
        return 1
    found = markers(site)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"check_site: {len(found)} literal reST role marker(s) in the built site",
              file=sys.stderr)
        return 1
    print(f"check_site: {len(pages)} pages, no reST role markers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
