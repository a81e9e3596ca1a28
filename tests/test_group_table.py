"""One table of counter-group names (``Scenario.group_table``) behind every resolver."""

from __future__ import annotations

import pytest

import peakend as pe
from peakend.config import Scenario
from peakend.decide.blocks import resolve_groups, staff_groups


def test_the_table_lists_every_stage_group_under_its_journeys_name():
    s = pe.load_scenario("branch_with_advisors")
    table = s.group_table()
    assert list(table) == ["general", "vip", "advisor/rm"]
    assert table["advisor/rm"].counter is s.stages["advisor"].counters["rm"]
    assert (table["advisor/rm"].stage, table["advisor/rm"].group) == ("advisor", "rm")
    assert table["general"].first and not table["advisor/rm"].first
    assert staff_groups(s) == table  # decide reads the scenario's table
    assert set(pe.simulate(s, seed=1).meta["counter_group"]) <= set(table)


@pytest.mark.parametrize(("name", "hint"), [
    ("rm", "advisor/rm"),  # a further stage's group by its bare name
    ("advisor", "advisor/rm"),  # a stage's name
    ("advisor/rn", "advisor/rm"),
    ("genral", "general"),
])
def test_both_resolvers_give_one_message(name, hint):
    s = pe.load_scenario("branch_with_advisors")
    with pytest.raises(ValueError) as scenario_error:
        s.counter_group(name)
    with pytest.raises(ValueError) as decide_error:
        resolve_groups(s, [name])
    message = str(scenario_error.value)
    assert message.startswith(f"group: unknown counter group {name!r}; did you mean {hint!r}?")
    assert "valid: general, vip, advisor/rm" in message
    assert str(decide_error.value) == "groups" + message[len("group"):]


def test_a_first_stage_group_may_be_named_with_its_stage_everywhere():
    s = pe.load_scenario("branch_with_advisors")
    assert s.counter_group("teller/general") is s.counters["general"]
    assert s.find_group("teller/general").name == "general"
    assert resolve_groups(s, ["teller/general"]) == ["general"]


def test_a_one_stage_message_does_not_mention_stages():
    s = pe.load_scenario("default_branch")
    with pytest.raises(ValueError, match=r"unknown counter group 'genral'; did you mean") as e:
        s.tellers_at("genral", 10.0)
    assert "<stage>/<group>" not in str(e.value)


def test_a_first_stage_group_named_like_a_further_stages_group_is_refused():
    data = pe.load_scenario("branch_with_advisors").model_dump()
    data["counters"]["advisor/rm"] = data["counters"]["general"]
    with pytest.raises(ValueError, match=r"counters\.advisor/rm: the first-stage counter group "
                       r"'advisor/rm' has the name of group 'rm' of stage 'advisor'"):
        Scenario.model_validate(data)
