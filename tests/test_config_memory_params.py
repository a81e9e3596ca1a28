"""The memory-rule parameter ranges that config checks at load agree with peakend.memory.

``peakend.config`` imports nothing of peakend, so it mirrors each rule's parameters and
ranges (``MEMORY_RULE_PARAMS``); these tests import both and pin them together, and
check that a value config accepts is accepted by the rule and one it refuses is refused.
"""

from __future__ import annotations

import dataclasses
import math
import typing

import pytest

from peakend import memory
from peakend.config import MEMORY_RULE_PARAMS, MemoryRule
from peakend.config.models import ParamRange


def test_the_same_rules_everywhere():
    literal = typing.get_args(MemoryRule.model_fields["rule"].annotation)
    assert list(MEMORY_RULE_PARAMS) == list(memory.RULES) == list(literal)


@pytest.mark.parametrize("rule", list(memory.RULES))
def test_each_rule_has_the_same_parameters_and_ranges(rule):
    fields = {f.name: f for f in dataclasses.fields(memory.RULES[rule])}
    mirrored = MEMORY_RULE_PARAMS[rule]
    assert list(mirrored) == list(fields)
    for name, f in fields.items():
        meta = f.metadata
        expected = ParamRange(
            f.default, meta["low"], meta["high"], meta["low_open"], meta["high_open"],
            meta["unit"],
        )
        assert mirrored[name] == expected, (rule, name)


def _probes(r: ParamRange) -> list[float]:
    values = [r.low, r.low + 0.5, r.low - 0.5, r.low + 1e-9, math.nan, math.inf, -math.inf]
    if math.isfinite(r.high):
        values += [r.high, r.high - 1e-9, r.high + 1e-9, r.high + 1]
    else:
        values += [1e300]
    return values


@pytest.mark.parametrize("rule", list(memory.RULES))
def test_config_accepts_exactly_what_the_rule_accepts(rule):
    for name, r in MEMORY_RULE_PARAMS[rule].items():
        for value in _probes(r):
            try:
                memory.get_rule(rule, **{name: value})
                rule_ok = True
            except ValueError:
                rule_ok = False
            try:
                MemoryRule(rule=rule, params={name: value})
                config_ok = True
            except ValueError:
                config_ok = False
            assert config_ok == rule_ok, (rule, name, value)


@pytest.mark.parametrize("rule", ["weighted_peak_end", "best_worst_end"])
def test_all_zero_weights_refused_by_both(rule):
    weights = {n: 0.0 for n in MEMORY_RULE_PARAMS[rule] if n.startswith("w_")}
    with pytest.raises(ValueError, match="at least one"):
        memory.get_rule(rule, **weights)
    with pytest.raises(ValueError, match="at least one"):
        MemoryRule(rule=rule, params=weights)
