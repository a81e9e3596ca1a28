"""One definition of the memory-rule names (issue 12): config and memory share it.

(Kept with the issue-12 tests: the seam work of issue 12 asked for one source of truth for
rule names; test_config_memory_params.py pins the parameter tables.)
"""

from __future__ import annotations

import typing

import pytest

from peakend import memory
from peakend.config import MemoryRule
from peakend.memory import _names


def test_config_and_memory_use_the_one_definition_of_the_rule_names():
    annotation = MemoryRule.model_fields["rule"].annotation
    assert annotation is _names.RuleName  # the same object, not a copy
    assert memory.RULE_NAMES is _names.RULE_NAMES
    assert typing.get_args(annotation) == memory.RULE_NAMES
    assert tuple(memory.RULES) == memory.RULE_NAMES  # the classes carry those names


def test_an_unknown_rule_name_is_refused_listing_the_names():
    with pytest.raises(ValueError) as err:
        MemoryRule.model_validate({"rule": "peak_ned"})
    text = str(err.value)
    assert "rule" in text and all(name in text for name in memory.RULE_NAMES), text
