"""Errors of the configuration layer, and turning pydantic's errors into clear lines.

Every message names the field at fault by its dotted path (``counters.general.tellers``)
and the allowed values; unknown names get a "did you mean". At most
:data:`MAX_ERRORS_SHOWN` errors are spelled out, followed by a count of the rest.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_ERRORS_SHOWN",
    "ConfigError",
    "PolicyError",
    "ScenarioValidationError",
    "did_you_mean",
    "error_lines",
    "node_of",
    "summarise",
]

#: Largest number of errors spelled out in one message; the rest are counted.
MAX_ERRORS_SHOWN = 20


class ConfigError(ValueError):
    """A scenario or policy file, or a change to a scenario, is invalid.

    Attributes
    ----------
    source : str
        The file (or policy, or ``"scenario"``) the problems belong to.
    problems : list of str
        One ``"field.path: reason"`` line per problem (at most
        :data:`MAX_ERRORS_SHOWN`); ``n_problems`` counts all of them.
    """

    def __init__(
        self, source: str, problems: Sequence[str], n_problems: int | None = None
    ) -> None:
        self.source = str(source)
        self.problems = list(problems)[:MAX_ERRORS_SHOWN]
        self.n_problems = len(problems) if n_problems is None else int(n_problems)
        super().__init__(summarise(self.source, self.problems, self.n_problems))


class PolicyError(ConfigError):
    """A policy is malformed or does not give a valid scenario; the message names the field."""

    def __init__(
        self,
        message: str,
        problems: Sequence[str] | None = None,
        n_problems: int | None = None,
    ) -> None:
        self.source = ""
        self.problems = [message] if problems is None else list(problems)[:MAX_ERRORS_SHOWN]
        self.n_problems = (
            len(self.problems) if n_problems is None else int(n_problems)
        )
        ValueError.__init__(self, message)


class ScenarioValidationError(ValidationError, ConfigError):
    """A scenario file does not describe a valid scenario.

    Both a :class:`pydantic.ValidationError` (whose ``title`` is the file) and a
    :class:`ConfigError`; ``errors()`` lists at most :data:`MAX_ERRORS_SHOWN` errors.
    """

    def __init__(self, *args: Any) -> None:  # built by pydantic-core's __new__
        pass

    @property
    def source(self) -> str:  # type: ignore[override]
        """The file the errors belong to."""
        return str(self.title).split(";", 1)[0]

    @property
    def problems(self) -> list[str]:  # type: ignore[override]
        """One ``"field.path: reason"`` line per error shown."""
        return [f"{'.'.join(map(str, e['loc'])) or '(scenario)'}: {e['msg']}" for e in
                self.errors()]

    @property
    def n_problems(self) -> int:  # type: ignore[override]
        """Number of errors, shown or not."""
        m = re.search(r"; ([\d,]+) more errors? not shown", str(self.title))
        return self.error_count() + (int(m.group(1).replace(",", "")) if m else 0)


def summarise(source: str, problems: Sequence[str], n_problems: int) -> str:
    """Message of a :class:`ConfigError`: the source, then one problem per line."""
    if n_problems == 1 and len(problems) == 1:
        return f"{source}: {problems[0]}"
    lines = [f"{source}: {n_problems:,} problems:"]
    lines += [f"  {p}" for p in problems]
    if n_problems > len(problems):
        lines.append(f"  ... and {n_problems - len(problems):,} more not shown")
    return "\n".join(lines)


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest of ``valid`` to ``name``, or ``""``."""
    options = [str(v) for v in valid]
    close = difflib.get_close_matches(str(name), options, n=1, cutoff=0.6)
    if not close:
        close = [v for v in options if v.endswith("_" + str(name))][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


# --------------------------------------------------------------------------- the schema as a tree
NodeKind = Literal["model", "collection", "list", "map", "distribution", "value"]


def _strip(annotation: Any) -> tuple[Any, bool]:
    """Strip ``Annotated`` and ``None`` from an annotation; return it and whether None was in it."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) < len(typing.get_args(annotation)):
                optional = True
            if len(args) == 1:
                annotation = args[0]
                continue
            return annotation, optional
        return annotation, optional


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def node_of(model: type[BaseModel], field: str) -> tuple[NodeKind, Any]:
    """Tell what kind of node field ``field`` of ``model`` is, and what it holds.

    Returns ``("model", cls)``, ``("collection", entry_cls)`` (a table of models keyed
    by name), ``("list", item_cls)`` (a list of models), ``("map", None)`` (a table
    of plain values with free keys),
    ``("distribution", {kind: cls})`` (a union of models told apart by ``kind``) or
    ``("value", None)``.
    """
    annotation, _ = _strip(model.model_fields[field].annotation)
    origin = typing.get_origin(annotation)
    if _is_model(annotation):
        return "model", annotation
    if origin is dict:
        value, _ = _strip(typing.get_args(annotation)[1])
        return ("collection", value) if _is_model(value) else ("map", None)
    if origin is list:
        item, _ = _strip(typing.get_args(annotation)[0])
        return ("list", item) if _is_model(item) else ("value", None)
    if origin in (Union, types.UnionType):
        members = [_strip(a)[0] for a in typing.get_args(annotation)]
        if members and all(_is_model(m) and "kind" in m.model_fields for m in members):
            kinds = {}
            for m in members:
                tag = typing.get_args(m.model_fields["kind"].annotation)
                kinds[tag[0] if tag else m.__name__.lower()] = m
            return "distribution", kinds
    return "value", None


def _walk(root: type[BaseModel], loc: Sequence[Any]) -> tuple[list[str], type[BaseModel] | None]:
    """Follow a pydantic error location from ``root``.

    Returns the location with discriminator tags (``lognormal``) removed, and the model
    class the whole location leads into (None if it ends at a plain value or leaves
    the models).
    """
    model: type[BaseModel] | None = root
    path: list[str] = []
    items = list(loc)
    i = 0
    while i < len(items):
        key = items[i]
        i += 1
        path.append(str(key))
        if model is None or not isinstance(key, str) or key not in model.model_fields:
            return path + [str(k) for k in items[i:]], None
        kind, info = node_of(model, key)
        model = None
        if kind == "model":
            model = info
        elif kind in ("collection", "list") and i < len(items):
            path.append(str(items[i]))
            i += 1
            model = info
        elif kind == "distribution" and i < len(items) and items[i] in info:
            model = info[items[i]]
            i += 1
    return path, model


_UNION_TAG = re.compile(r"^(int|float|str|bool|none|list\[.*\]|dict\[.*\])$")


def error_lines(
    exc: ValidationError, root: type[BaseModel], limit: int = MAX_ERRORS_SHOWN
) -> tuple[list[tuple[tuple[str, ...], str, Any]], int]:
    """Return the first ``limit`` errors of ``exc`` as ``(path, message, input)``, and the total.

    A model validator's message that starts with a field name (``"tellers: must be ..."``)
    is joined to the location; discriminator tags (``lognormal``) are dropped from it; an
    unknown field gets the model's valid fields and a "did you mean".
    """
    total = exc.error_count()
    out: list[tuple[tuple[str, ...], str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    unioned: list[int] = []
    for err in exc.errors(include_url=False)[: limit + 5]:
        if len(out) == limit:
            break
        loc = tuple(err.get("loc", ()))
        path, _ = _walk(root, loc)
        tagged = [i for i, k in enumerate(path) if i and _UNION_TAG.match(k)]
        path = [k for i, k in enumerate(path) if i not in tagged]
        if tagged and tagged[-1] == len(path) + len(tagged) - 1:
            # a value refused by a member of a union (``int | list[ShiftBlock]``): one line,
            # and none if another member says more about it (a deeper path)
            if tuple(path) in seen:
                total -= 1
                continue
            unioned.append(len(out))
        seen.add(tuple(path))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        m = re.match(r"^([A-Za-z_][\w.*\[\]]*): (.*)$", msg, re.S)
        if m:
            path += m.group(1).split(".")
            msg = m.group(2)
        elif err.get("type") == "missing" and path:
            parent = _walk(root, loc[:-1])[1] if len(loc) > 1 else root
            key = loc[-1] if loc else None
            if parent is not None and isinstance(key, str) and key in parent.model_fields:
                about = parent.model_fields[key].description
                if about:
                    msg = f"{msg}: {about}"
        elif err.get("type") == "extra_forbidden" and path:
            parent = _walk(root, loc[:-1])[1] if len(loc) > 1 else root
            if parent is not None:
                valid = list(parent.model_fields)
                msg = (
                    f"unknown field {path[-1]!r}{did_you_mean(path[-1], valid)} "
                    f"(fields here: {', '.join(valid)})"
                )
        elif (
            "input" in err
            and err.get("type") != "missing"
            and not isinstance(err["input"], (dict, list))
        ):
            msg = f"{msg} (got {_short(err['input'])})"
            if str(err.get("type", "")).endswith(("_type", "_parsing")):
                msg += _type_hint(root, loc, err["input"], str(err["type"]))
        out.append((tuple(path), msg, err.get("input")))
    drop = {
        i for i in unioned
        if any(len(p) > len(out[i][0]) and p[: len(out[i][0])] == out[i][0] for p, _, _ in out)
    }
    return [line for i, line in enumerate(out) if i not in drop], total - len(drop)


def _allowed(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """Return the range of the field at ``loc`` (``">= 0, <= 10"``), or ``""``."""
    for cut in range(len(loc), 0, -1):  # the field may be followed by a union tag
        key = loc[cut - 1]
        parent = _walk(root, loc[: cut - 1])[1] if cut > 1 else root
        if parent is not None and isinstance(key, str) and key in parent.model_fields:
            bounds = []
            for c in parent.model_fields[key].metadata:
                for name, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                    value = getattr(c, name, None)
                    if value is not None:
                        bounds.append(f"{sym} {value:g}")
            return ", ".join(bounds)
    return ""


def _type_hint(root: type[BaseModel], loc: tuple[Any, ...], value: Any, kind: str) -> str:
    """Why a value of the wrong type was refused, and the field's range."""
    hint = ""
    if isinstance(value, str):
        hint = "; values are read strictly: write numbers and true/false without quotes"
    elif isinstance(value, bool):
        hint = "; true/false is not a number"
    elif kind.startswith("bool"):
        hint = "; a number is not true/false"
    elif kind.startswith("int") and isinstance(value, float):
        hint = "; a whole number is needed (5, not 5.0)"
    allowed = _allowed(root, loc)
    return hint + (f"; allowed: {allowed}" if allowed else "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def scenario_validation_error(
    exc: ValidationError, root: type[BaseModel], source: str
) -> ScenarioValidationError:
    """Rebuild ``exc`` as a :class:`ScenarioValidationError` titled ``source``, clear and short."""
    lines, total = error_lines(exc, root)
    return error_from_lines(lines, total, source)


def error_from_lines(
    lines: Sequence[tuple[tuple[str, ...], str, Any]], total: int, source: str
) -> ScenarioValidationError:
    """Build a :class:`ScenarioValidationError` titled ``source`` from error lines."""
    title = str(source)
    if total > len(lines):
        title += f"; {total - len(lines):,} more errors not shown"
    details: list[Any] = [
        {
            "type": PydanticCustomError("invalid_scenario", "{message}", {"message": msg}),
            "loc": path or ("(scenario)",),
            "input": value,
        }
        for path, msg, value in lines
    ]
    return ScenarioValidationError.from_exception_data(title, details, hide_input=True)


def unknown_fields(
    data: Any, model: type[BaseModel], limit: int = MAX_ERRORS_SHOWN
) -> tuple[list[tuple[tuple[str, ...], str, Any]], int]:
    """Find the keys of parsed data that are not fields of the models, without pydantic.

    Linear in the size of ``data`` and cheap, so that a file of many junk keys is
    answered at once. Returns the first ``limit`` as ``(path, message, None)`` lines
    (with a "did you mean") and the number of all of them.
    """
    found: list[tuple[tuple[str, ...], str, Any]] = []
    count = 0
    stack: list[tuple[Any, type[BaseModel], tuple[str, ...]]] = [(data, model, ())]
    while stack:
        value, cls, path = stack.pop()
        if not isinstance(value, dict):
            continue
        fields = cls.model_fields
        for key, item in value.items():
            if key not in fields:
                count += 1
                if len(found) < limit:
                    found.append((
                        (*path, str(key)),
                        f"unknown field {key!r}{did_you_mean(str(key), fields)} "
                        f"(fields here: {', '.join(fields)})",
                        None,
                    ))
                continue
            kind, info = node_of(cls, key)
            here = (*path, key)
            if kind == "model":
                stack.append((item, info, here))
            elif kind == "collection" and isinstance(item, dict):
                stack.extend((entry, info, (*here, str(name))) for name, entry in item.items())
            elif kind == "list" and isinstance(item, list):
                stack.extend((entry, info, (*here, str(i))) for i, entry in enumerate(item))
            elif kind == "distribution" and isinstance(item, dict) and item.get("kind") in info:
                stack.append((item, info[item["kind"]], here))
    found.sort(key=lambda line: line[0])
    return found, count
