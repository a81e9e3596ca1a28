"""Griffe extension: turn reST roles in docstrings into mkdocstrings cross-references.

peakend's docstrings are numpydoc and use Sphinx roles (``:func:`peakend.run```,
``:class:`~peakend.journeys.Journeys```, ``:meth:`Results.save```). mkdocstrings renders
Markdown, where these would show as literal markers. This extension, loaded by the
mkdocstrings handler (``extensions:`` in ``mkdocs.yml``), rewrites each role before the
docstrings are rendered:

* a role whose target is rendered in the API reference becomes an autorefs link,
  `` [`Journeys`][peakend.journeys.Journeys] ``; targets are resolved like Sphinx does,
  relative to the object, its class, its module and its packages (``~`` shows the last
  component only), and ``peakend.run``-style names through ``peakend._LAZY_NAMES``;
* any other role (a private helper, a third-party class, an object the API page does not
  render) becomes plain code, `` `name` ``, so the strict build never meets a dangling
  reference.

``.ci/check_site.py`` then fails CI if any role marker is left in the built HTML.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|mod|obj|exc|const|ref|term)"
                  r":`(~?)([^`<]+?)(?:\s*<([^>`]+)>)?`")


def _api_roots(api_page: Path) -> list[str]:
    text = api_page.read_text(encoding="utf-8")
    return re.findall(r"^::: ([\w.]+)", text, flags=re.MULTILINE)


class RestRoles(griffe.Extension):
    """Rewrite reST roles of every docstring in the package ``package``."""

    def __init__(self, api: str = "docs/reference/api.md", package: str = "peakend") -> None:
        super().__init__()
        self.api = Path(api)
        self.package = package
        self.rendered: set[str] = set()
        self.canonical: dict[str, str] = {}
        self.lazy: dict[str, str] = {}
        self.converted = 0

    # -------------------------------------------------------------- what is rendered
    def _register(self, obj: Any, path: str) -> None:
        try:
            has_doc = bool(obj.docstring) or obj.is_module
            canonical = obj.final_target.path if obj.is_alias else obj.path
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return
        if not has_doc or path in self.rendered:
            return
        self.rendered.add(path)
        self.canonical.setdefault(canonical, path)
        target = obj.final_target if obj.is_alias else obj
        if target.is_module or target.is_class:
            for name, member in self._public_members(target):
                self._register(member, f"{path}.{name}")

    @staticmethod
    def _public_members(obj: Any) -> list[tuple[str, Any]]:
        exports = obj.exports if obj.is_module else None
        out = []
        for name, member in obj.members.items():
            if name.startswith("_"):
                continue
            if obj.is_module:
                if exports is not None:
                    if name not in exports:
                        continue
                elif member.is_alias:
                    continue
            out.append((name, member))
        return out

    def on_package(self, *, pkg: Any, loader: Any, **kwargs: Any) -> None:
        """Collect the rendered objects, then rewrite every docstring of the package."""
        if pkg.name != self.package:
            return
        try:
            import importlib

            module = importlib.import_module(self.package)
            self.lazy = dict(getattr(module, "_LAZY_NAMES", {}))
        except ImportError:  # pragma: no cover - the docs build imports the package
            self.lazy = {}
        collection = loader.modules_collection
        for root in _api_roots(self.api):
            try:
                self._register(collection[root], root)
            except (KeyError, griffe.AliasResolutionError):
                continue
        self._rewrite(pkg, collection)

    # ---------------------------------------------------------------- resolution
    def _resolve(self, obj: Any, name: str, collection: Any) -> str | None:
        name = name.strip().lstrip(".")
        if name.startswith("pe."):
            name = self.package + name[2:]
        candidates = [name]
        head, _, rest = name.partition(".")
        if head == self.package:
            first, _, tail = rest.partition(".")
            if first in self.lazy:
                candidates.append(f"{self.lazy[first]}.{first}" + (f".{tail}" if tail else ""))
        scope = obj
        while scope is not None:
            candidates.append(f"{scope.path}.{name}")
            scope = scope.parent
        for path in candidates:
            if path in self.rendered:
                return path
            if path in self.canonical:
                return self.canonical[path]
            try:
                found = collection[path]
                target = found.final_target.path if found.is_alias else found.path
            except (KeyError, ValueError, AttributeError, griffe.AliasResolutionError,
                    griffe.CyclicAliasError):
                continue
            if target in self.canonical:
                return self.canonical[target]
        return None

    def convert(self, text: str, obj: Any, collection: Any) -> str:
        """Return ``text`` with every role replaced (see the module docstring)."""

        def replace(match: re.Match[str]) -> str:
            _, tilde, title, explicit = match.groups()
            target = (explicit or title).strip()
            shown = title.strip()
            if tilde:
                shown = shown.rsplit(".", 1)[-1]
            self.converted += 1
            path = self._resolve(obj, target, collection)
            return f"[`{shown}`][{path}]" if path else f"`{shown}`"

        return ROLE.sub(replace, text)

    def _rewrite(self, obj: Any, collection: Any) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = self.convert(obj.docstring.value, obj, collection)
        for member in obj.members.values():
            if not member.is_alias:
                self._rewrite(member, collection)
