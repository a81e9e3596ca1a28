"""Build the what-if notebooks of peakend from this script.

The notebooks are committed *without outputs*; CI executes each of them once, in the
documentation build (mkdocs-jupyter, ``execute: true`` in ``mkdocs.yml``), whose pages show
every output; pytest does not collect them (``notebooks/conftest.py``; set
``PEAKEND_TEST_NOTEBOOKS=1`` to run them with nbmake).
Edit the cells here, not in Jupyter, and regenerate all of them with::

    python notebooks/build_notebooks.py

Each notebook tells one story in prose and figures and runs in well under a minute:
replications are kept small on purpose (a real study uses a few hundred).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import matplotlib.pyplot as plt
import numpy as np

import peakend as pe

plt.rcParams["figure.dpi"] = 90"""

SETUP_PANDAS = """\
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import peakend as pe

plt.rcParams["figure.dpi"] = 90
pd.set_option("display.width", 120)"""


def md(text: str) -> nbformat.NotebookNode:
    """Return a markdown cell."""
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    """Return a code cell (no outputs)."""
    return new_code_cell(text.strip("\n"))


# --------------------------------------------------------------------------- 01
QUICK_START = [
    md("""
# Quick start: one day at a bank branch

`peakend` simulates a bank branch as a discrete-event model, turns every touchpoint of a
customer's visit into a momentary feeling by the **Delta law** (experience minus
expectation), and scores each journey the way memory does, with the **peak-end rule**.

In this notebook we simulate one day of the built-in `default_branch`, see how its
customers remember it, and look at where the good and bad moments come from.
"""),
    code(SETUP),
    md("""
## The branch

A scenario is a validated configuration: opening hours, arrivals hour by hour, customer
segments and their expectations, counters and staffing, experience design.
"""),
    code("""
scenario = pe.load_scenario("default_branch")
print(scenario.description)
print("segments:", {name: seg.share for name, seg in scenario.segments.items()})
print("expected wait (minutes):",
      {name: seg.expected_wait for name, seg in scenario.segments.items()})
print(f"about {scenario.expected_arrivals():.0f} customers a day, "
      f"offered load {scenario.offered_load():.2f}")
print(f"staff cost {scenario.staff_cost():.0f} {scenario.currency} per day")
"""),
    md("""
## Simulate a day

`simulate` returns a `Journeys` record: one row per customer, one row per episode
(touchpoint visit). The seed fixes the day: the same seed gives the same customers.
"""),
    code("""
day = pe.simulate(scenario, seed=1)
day
"""),
    md("""
## How is the day remembered?

The `remembered` column is each customer's remembered value under the peak-end rule, on
the affect scale -10..10 (0: exactly as expected). Ordinary customers, who expect a long
wait, remember the day much better than gold-card customers, who expect a short one.
"""),
    code("""
ax = pe.plots.remembered_distribution(day.to_pandas(), order=list(day.segments))
"""),
    md("""
## The hall over the day

The queue in the hall builds up over the lunch peak. The orange line is the number of
general tellers on duty (constant here: four all day).
"""),
    code("""
staffing_time = [0.0]
staffing = [scenario.tellers_at("general", scenario.opening)]
ax = pe.plots.hall_queue(day.queue["time"], day.queue["length"],
                         staffing_time=staffing_time, staffing=staffing,
                         close=scenario.open_minutes, opening=scenario.opening,
                         staffing_label="general tellers on duty")
"""),
    md("""
## One customer's journey

Take the gold-card customer who waited longest. The journey map shows the affect at
each touchpoint; the circle is the peak, the square the end, and the dashed line what
the customer remembers: their average.
"""),
    code("""
c = day.customers
gold = np.flatnonzero(c["segment"] == day.code("segments", "gold"))
longest = int(gold[np.argmax(c["wait"][gold])])
print(f"customer {longest} waited {c['wait'][longest]:.1f} minutes")
ax = pe.plots.journey_map(day, customers=[longest])
"""),
    md("""
## Moments of truth

Where do the peaks come from? For each segment and touchpoint, the share of customers whose
best moment was there minus the share whose worst moment was there (blue: good impressions
win, vermillion: bad ones). The marks classify the touchpoints from the same best and worst
moments (`pe.cem.moments_of_truth`):
▼ a *negative moment of truth* (where the worst moments come from: mitigate it so the
negative peak is not larger than the positive one), ▲ a *positive* one (where good
impressions are made: invest). Waiting can be either: ordinary customers expect a long
wait and are often pleasantly surprised, while VIP and gold customers expect a short one.
"""),
    code("""
mot = pe.cem.moments_of_truth(day)
ax = pe.plots.moments_of_truth(mot)
"""),
    md("""
## Other memory rules

The peak-end rule is the default, but every journey can be re-scored. The integral (area
under the affect curve, in affect x minutes) is Kahneman's total *experienced* utility; it
grows with duration, while memory does not.
"""),
    code("""
rules = ["peak_end", "mean", "end", "integral"]
for rule in rules:
    values = day.score(rule)
    per_segment = {name: float(np.nanmean(values[c["segment"] == k]))
                   for k, name in enumerate(day.segments)}
    print(f"{rule:9s}", {name: round(v, 2) for name, v in per_segment.items()})
"""),
    md("""
## Next

* `02_staffing_what_if`: how many tellers at lunch?
* `03_vip_windows_and_gold_card_paradox`: windows, priority and the Delta law.
* `04_designing_the_end`: farewell and gifts against their cost.
* `05_when_memory_rules_disagree`: policies that win under one rule and lose under another.
* `06_loyalty_over_visits`: how remembered visits add up to loyalty, visit after visit.
"""),
]


# --------------------------------------------------------------------------- 02
STAFFING = [
    md("""
# Staffing what-if: how many tellers at lunch?

The default branch has four general tellers all day, and its queue builds up over the
lunch peak (12:00-14:00). Would a fifth teller from 11:30 to 14:00 help? A sixth? Or could
the branch move a teller from the quiet afternoon to lunch at no extra cost?

We compare the policies on the same simulated days (common random numbers), so the
differences are paired. We use 20 replications to keep the notebook fast; a real study
uses a few hundred.
"""),
    code(SETUP),
    code("""
scenario = pe.load_scenario("default_branch")


def shifts(*blocks):
    \"\"\"A general-teller shift plan from (clock time, tellers) pairs.\"\"\"
    return {"counters": {"general": {"tellers": [{"start": t, "count": n} for t, n in blocks]}}}


policies = [
    pe.Policy("baseline"),
    pe.Policy("lunch +1", shifts(("09:00", 4), ("11:30", 5), ("14:00", 4))),
    pe.Policy("lunch +2", shifts(("09:00", 4), ("11:30", 6), ("14:00", 4))),
    # cost-neutral: the extra 2.5 lunch teller-hours are taken from the afternoon
    pe.Policy("moved to lunch", shifts(("09:00", 4), ("11:30", 5), ("14:00", 4), ("14:30", 3))),
]


def teller_plan(s, group="general"):
    \"\"\"Minutes from opening at which the tellers on duty change, and their numbers.\"\"\"
    plan = s.counters[group].tellers
    if isinstance(plan, int):
        return [0.0], [plan]
    return [(b.start - s.opening) * 60 for b in plan], [b.count for b in plan]
results = pe.run(scenario, policies, replications=20, seed=11, progress=False)
results
"""),
    md("""
Larger studies can use both cores: `workers=2` simulates in this kernel and one worker
process. In a notebook the worker is forked by a fork server that loads peakend once per
session (the first such run computes here while it starts). The results are the same,
bit for bit:
"""),
    code("""
on_two = pe.run(scenario, policies, replications=20, seed=11, progress=False, workers=2)
assert on_two == results
"""),
    md("""
## The queue under each plan

One simulated day (the same customers under every plan): the hall queue, with the
number of general tellers on duty as the orange step line.
"""),
    code("""
days = {p.name: pe.simulate(p.apply(scenario), seed=3) for p in policies}
queue_max = max(int(d.queue["length"].max()) for d in days.values())
fig, axes = plt.subplots(len(policies), 1, figsize=(9, 2.4 * len(policies)), sharex=True,
                         layout="constrained")
for ax, policy in zip(axes, policies):
    s = policy.apply(scenario)
    times, tellers = teller_plan(s)
    day = days[policy.name]
    pe.plots.hall_queue(day.queue["time"], day.queue["length"], staffing_time=times,
                        staffing=tellers, close=s.open_minutes, opening=s.opening,
                        staffing_label="general tellers", queue_max=queue_max,
                        staffing_max=6, ax=ax)
    ax.set_title(f"{policy.name}: mean wait {np.mean(day.customers['wait']):.1f} min")
    if ax is not axes[-1]:
        ax.set_xlabel("")
        ax.get_legend().remove()
"""),
    md("""
## What customers remember

Paired differences in remembered value (peak-end rule) against the baseline, per
segment, with 95 % confidence intervals. Filled points: the interval excludes zero.
"""),
    code("""
table = results.compare("baseline", "peak_end")
ax = pe.plots.policy_comparison(table, baseline="baseline")
"""),
    code("""
results.summary(["wait_mean", "abandonment_rate", "cost"], "all")
"""),
    md("""
## Is it worth it?

Each policy's daily cost (staff, fixed costs, gifts) against its mean remembered value.
Policies on the green line are *Pareto-efficient*: no other policy is both cheaper and
better remembered. Moving a teller from the quiet afternoon to lunch costs nothing extra.
"""),
    code("""
front = results.pareto("peak_end")
ax = pe.plots.cost_value_pareto(front["cost"], front["value"], list(front["policy"]),
                                xlabel=f"cost ({scenario.currency} per day)")
front
"""),
    code("""
results.cost_per_point("baseline")
"""),
    md("""
## Reading the result

* A lunch teller shortens waits and lifts what gold and ordinary customers remember.
  VIPs, served at their own window, are not affected.
* The second lunch teller buys much less than the first: once the lunch queue is gone,
  more staff cannot improve the wait that no longer exists.
* Moving an afternoon teller to lunch gets part of the gain at no extra cost: the
  afternoon is quiet enough for three tellers. Look at the afternoon queue before
  deciding, and check the gold customers, the most sensitive to waiting.

With 20 replications the intervals are wide; rerun with `replications=200` (and
`workers=2` or more) before acting on a small difference.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
table = results.compare("baseline", "peak_end")
lunch = {seg: low for pol, seg, low in zip(table["policy"], table["segment"], table["low"])
         if pol == "lunch +1"}
assert lunch["gold"] > 0 and lunch["ordinary"] > 0, lunch
front = results.pareto("peak_end")
assert dict(zip(front["policy"], front["efficient"]))["moved to lunch"]
"""),
]


# --------------------------------------------------------------------------- 03
VIP_GOLD = [
    md("""
# VIP windows and the gold-card paradox

The Delta law says satisfaction is *experience minus expectation*. Two effects from the
source case studies follow from it, and `peakend` reproduces both as built-in scenarios:

* **The gold-card paradox.** Gold-card customers get a dedicated window and wait less than
  ordinary customers, yet remember the visit worse, because they expect almost no wait.
* **The VIP contrast effect.** The VIP lounge is a positive moment only when the main hall
  is crowded: "see and be seen".

Then we ask how to serve VIPs: a dedicated window, priority in the shared queue, or a
flexible window, and who pays for each.

Replications are small (20 days) to keep the notebook fast; a real study uses more.
"""),
    code(SETUP),
    md("""
## The gold-card paradox

The `gold_card_paradox` scenario gives gold customers their own window. Gold customers
expect to wait 1 minute, ordinary customers 20.
"""),
    code("""
paradox = pe.load_scenario("gold_card_paradox")
print({name: seg.expected_wait for name, seg in paradox.segments.items()})
results = pe.run(paradox, replications=20, seed=3, progress=False)
results.summary(["wait_mean", "perceived_wait_mean", "peak_end"], ["gold", "ordinary"])
"""),
    md("""
Gold customers wait less, and remember worse. Pool the simulated days and look at every
customer: the waiting time on the x axis, the remembered value on the y axis.
"""),
    code("""
days = pe.Journeys.concat([pe.simulate(paradox, seed=k) for k in range(5)])
c = days.customers
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for name, color in [("ordinary", "tab:blue"), ("gold", "tab:orange")]:
    sel = (c["segment"] == days.code("segments", name)) & (c["counter"] >= 0)
    ax.scatter(c["wait"][sel], c["remembered"][sel], s=10, alpha=0.5, color=color,
               label=f"{name}: mean wait {c['wait'][sel].mean():.1f} min, "
                     f"remembers {c['remembered'][sel].mean():+.2f}")
ax.axhline(0, color="0.3", lw=0.8)
ax.set_xlabel("wait (minutes)")
ax.set_ylabel("remembered value (affect scale −10..10)")
ax.set_title("Served customers of the gold_card_paradox branch (5 days)")
ax.legend(fontsize=8);
"""),
    md("""
At the same wait, a gold customer remembers the visit worse than an ordinary one: the
wait is measured against a much higher expectation. The remedy the Delta law suggests is
not only a shorter wait but a *managed expectation*: what if the gold card promised
"short waits" instead of "no wait"? A policy changes the expected wait of gold customers
to 5 minutes, and we compare on the same days.
"""),
    code("""
honest = pe.Policy("honest promise", {"segments": {"gold": {"expected_wait": 5.0}}})
promise = pe.run(paradox, [pe.Policy("baseline"), honest], replications=20, seed=3,
                 progress=False)
ax = pe.plots.policy_comparison(promise.compare("baseline", "peak_end"), baseline="baseline")
"""),
    md("""
## The VIP contrast effect

In `vip_contrast`, the lounge experience grows with the number of customers waiting in
the main hall when the VIP walks in. On a quiet morning the lounge is just a room.
"""),
    code("""
contrast = pe.load_scenario("vip_contrast")
vip_days = pe.Journeys.concat([pe.simulate(contrast, seed=k) for k in range(8)])
lounge = vip_days.code("touchpoints", "lounge")
ep = vip_days.episodes
owner = vip_days.episode_customer
in_lounge = ep["touchpoint"] == lounge
queue_seen = vip_days.customers["queue_on_arrival"][owner[in_lounge]]
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.scatter(queue_seen, ep["affect"][in_lounge], s=14, alpha=0.6)
ax.axhline(0, color="0.3", lw=0.8)
ax.set_xlabel("customers waiting in the hall when the VIP arrived (count)")
ax.set_ylabel("lounge affect (−10..10)")
ax.set_title("VIP lounge: a peak only when the hall is crowded")
print(f"{in_lounge.sum()} lounge visits over 8 days")
"""),
    md("""
## How to serve VIPs, and who pays

The default branch has a dedicated VIP window. Two alternatives from the built-in policy
set: no VIP window but VIP priority in the shared queue (five general tellers), and a
*flexible* VIP window that serves the next general customer when no VIP waits.
"""),
    code("""
branch = pe.load_scenario("default_branch")
builtin = {p.name: p for p in pe.experiment.load_policies("default_branch")}
windows = [builtin["baseline"], builtin["vip_priority"], builtin["vip_flexible"]]
for p in windows:
    print(f"{p.name:13s}", p.description if hasattr(p, "description") else "")
vip = pe.run(branch, windows, replications=20, seed=8, progress=False)
ax = pe.plots.policy_comparison(vip.compare("baseline", "peak_end"), baseline="baseline")
"""),
    code("""
vip.summary(["wait_mean", "slips_mean", "peak_end"], ["vip", "gold", "ordinary"])
"""),
    md("""
Priority in a shared queue makes every VIP served ahead a *slip* for the customers
already waiting (Larson 1987): the `slips_mean` column counts them. The flexible window
keeps the VIP service and lends the idle VIP teller to the general queue. Read the
forest plot segment by segment: a policy can help gold and ordinary customers while
costing VIPs, who sometimes find their window busy with a general customer. Whether that
is a good trade depends on what each segment is worth to the bank, which the analytics
(retained customers and value) make explicit.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
gold_wait, ordinary_wait = (results.get("wait_mean", s).mean() for s in ("gold", "ordinary"))
gold_memory, ordinary_memory = (results.get("peak_end", s).mean() for s in ("gold", "ordinary"))
assert gold_wait < ordinary_wait and gold_memory < ordinary_memory  # the paradox
lounge_crowded = ep["affect"][in_lounge][queue_seen >= 5].mean()
lounge_empty = ep["affect"][in_lounge][queue_seen == 0].mean()
assert lounge_crowded > lounge_empty + 1.0  # the contrast effect
"""),
]


# --------------------------------------------------------------------------- 04
ENDINGS = [
    md("""
# Designing the end of the visit: farewell and gifts against their cost

Under the peak-end rule the end is half of what is remembered. Good service companies
design it: a sincere farewell, a small gift at the exit. Gifts have diminishing marginal
utility (a 5-litre bottle of oil does not please five times as much as a 1-litre one), so
how far is it worth going?

We compare, on the same simulated days of the default branch:

* **baseline**: no farewell protocol for gold and ordinary customers (VIPs already have one);
* **farewell**: a sincere farewell for gold and ordinary customers, no gift;
* **small / medium / large gift**: the farewell plus a gift of growing size and cost;
* and, as a reference from another lever, a **lunch teller** (one more teller 11:30-14:00):
  shorter waits instead of a better end.

Assumption to keep in mind: the farewell itself costs nothing extra here (done by the staff
already on duty); a real study would price the minutes. 15 replications per policy keep
the notebook fast; a real study uses more.
"""),
    code(SETUP),
    code("""
scenario = pe.load_scenario("default_branch")


def farewell(gold_gift, gold_cost, ordinary_gift, ordinary_cost):
    \"\"\"Farewell for gold and ordinary customers; gift sizes and costs in currency units.\"\"\"
    return {"segments": {
        "gold": {"farewell": {"enabled": True, "minutes": 1.0, "level": 7.5,
                              "gift_size": gold_gift, "gift_cost": gold_cost}},
        "ordinary": {"farewell": {"enabled": True, "minutes": 0.5, "level": 7.0,
                                  "gift_size": ordinary_gift, "gift_cost": ordinary_cost}},
    }}


lunch_teller = {"counters": {"general": {"tellers": [
    {"start": "09:00", "count": 4}, {"start": "11:30", "count": 5}, {"start": "14:00", "count": 4},
]}}}

policies = [
    pe.Policy("baseline"),
    pe.Policy("lunch teller", lunch_teller),  # a reference: shorter waits instead of a better end
    pe.Policy("farewell", farewell(0, 0, 0, 0)),
    pe.Policy("small gift", farewell(3, 8, 1, 3)),
    pe.Policy("medium gift", farewell(9, 25, 3, 8)),
    pe.Policy("large gift", farewell(27, 75, 9, 25)),
]
results = pe.run(scenario, policies, replications=15, seed=5, progress=False,
                 rules=("peak_end", "integral", "mean", "end"))
results.summary(["peak_end", "gift_cost", "cost"], "all")
"""),
    md("""
## What one journey looks like with a farewell

The same customer on the same day, without and with the farewell and a small gift: the
end moves, and the remembered value moves half as much.
"""),
    code("""
plain = pe.simulate(scenario, seed=2)
nice = pe.simulate(policies[3].apply(scenario), seed=2)  # farewell and a small gift
c = plain.customers
served = np.flatnonzero((c["segment"] == plain.code("segments", "gold")) & (c["counter"] >= 0))
who = int(served[0])
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True, layout="constrained")
pe.plots.journey_map(plain, [who], ax=axes[0])
axes[0].set_title("baseline")
pe.plots.journey_map(nice, [who], ax=axes[1])
axes[1].set_title("farewell and a small gift");
"""),
    md("""
## Cost against remembered value

Every policy's daily cost against the mean remembered value. The farewell alone costs
nothing and moves memory the most; each bigger gift buys less than the one before
(diminishing marginal utility), at a rising cost. The lunch teller costs more than the
farewell and, under the peak-end rule, buys less.
"""),
    code("""
front = results.pareto("peak_end")
ax = pe.plots.cost_value_pareto(front["cost"], front["value"], list(front["policy"]),
                                xlabel=f"cost ({scenario.currency} per day)")
results.cost_per_point("baseline")
"""),
    md("""
## Memory rule matters

The farewell lasts half a minute to a minute. Under the **integral** (the area under the
affect curve, Kahneman's total experienced utility) such a short episode counts little,
while ten minutes less waiting counts a lot; under the **peak-end rule** the end is half
of the memory. Paired differences against the baseline under both rules, for all
customers: watch the lunch teller against the farewell.
"""),
    code("""
table = results.compare("baseline", ["peak_end", "integral"], "all")
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
pe.plots.policy_comparison(table, metric="remembered[peak_end]", baseline="baseline", ax=axes[0])
axes[0].set_title("peak-end rule (affect points)")
pe.plots.policy_comparison(table, metric="remembered[integral]", baseline="baseline", ax=axes[1],
                           xlabel="difference in integral vs baseline (affect x minutes)")
axes[1].set_title("integral (affect x minutes)");
"""),
    md("""
The two rules order the levers differently. A manager who optimises the integral would
hire the lunch teller and call the farewell a detail; a manager who optimises what
customers *remember* (and tell others, and act on) would start with the farewell.
The cheapest lever is the free farewell; gifts beyond a small one are hard to justify on
remembered value alone.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
peak_end = {p: d for p, m, d in zip(table["policy"], table["metric"], table["difference"])
            if m == "remembered[peak_end]"}
integral = {p: d for p, m, d in zip(table["policy"], table["metric"], table["difference"])
            if m == "remembered[integral]"}
assert peak_end["farewell"] > peak_end["lunch teller"]  # memory: the end wins
assert integral["lunch teller"] > integral["farewell"]  # total experience: the wait wins
steps = [peak_end[p] for p in ("farewell", "small gift", "medium gift", "large gift")]
assert all(b > a for a, b in zip(steps, steps[1:]))  # bigger gifts help, less per unit cost
"""),
]


# --------------------------------------------------------------------------- 05
RULES = [
    md("""
# When memory rules disagree

The peak-end rule is well supported (a meta-analysis finds a peak-end effect of
r = 0.58), but the overall mean predicts memory almost as well, and the integral of
experience (Kahneman's total *experienced* utility) is the normative benchmark. A policy
that wins under one rule and loses under another is exactly what a manager needs to see.

We run the built-in policy set of the default branch under five memory rules and compare
the rankings. 15 replications per policy keep the notebook fast; a real study uses more.
"""),
    code(SETUP),
    code("""
scenario = pe.load_scenario("default_branch")
policies = pe.experiment.load_policies("default_branch")
for p in policies:
    print(f"{p.name:22s} {p.description}")
rules = ("peak_end", "end", "mean", "time_weighted_mean", "integral")
results = pe.run(scenario, policies, replications=15, seed=21, progress=False, rules=rules)
"""),
    md("""
## Rankings side by side

Each policy's mean remembered value under each rule, turned into a rank (1 = best
remembered). Thick lines are the policies whose rank changes between rules.
"""),
    code("""
means = {rule: dict(zip(results.policies, np.nanmean(results.get(rule, "all"), axis=1)))
         for rule in rules}
ax = pe.plots.rule_rankings(means)
"""),
    md("""
The rules split into two families. **Peak-end** and **end** reward what happens at the
most intense moment and at the end of the visit: the farewell gift climbs to the top.
The **integral** and the **time-weighted mean** reward less discomfort minute by minute:
more tellers and a pleasant hall win, and the farewell gift, half a minute long, barely
registers. The plain **mean** (every episode counts the same, whatever its length) sits
in between.
"""),
    md("""
## Where the disagreement is real

Ranks can change by noise. `rule_disagreement` lists the pairs of policies that two rules
order differently, with paired tests under each rule; `both_significant` marks the pairs
where both orderings are clear at the 5 % level.
"""),
    code("""
disagreement = results.rule_disagreement("peak_end", "integral")
disagreement
"""),
    md("""
## The middle of the visit

`senior_rm` puts a senior relationship manager at the VIP window: better professional
advice, in the middle of a VIP's visit (after the wait, before the farewell). What does
it do for VIPs under each rule? Paired differences against the baseline:
"""),
    code("""
vip_gain = {}
for rule in ("peak_end", "mean", "integral"):
    t = results.compare("baseline", rule)
    for policy, segment, diff, low, high in zip(t["policy"], t["segment"], t["difference"],
                                                t["low"], t["high"]):
        if policy == "senior_rm" and segment == "vip":
            vip_gain[rule] = (diff, low, high)
            print(f"{rule:9s} {diff:+8.3f}  95% CI [{low:+.3f}, {high:+.3f}]")
"""),
    md("""
Under the integral and the mean, the better advice is a clear gain. Under peak-end it is
close to nothing: for most VIPs the advice is neither the worst moment (the wait is) nor
the end (the farewell), so it is hardly remembered. Improving the middle of a visit makes
it better; it does not make it *remembered* better.
"""),
    md("""
## What to do with it

* If your question is what customers will **remember** (and tell others, and act on when
  they choose a bank), use the peak-end rule, and design the peaks and the end.
* If it is total discomfort endured (a welfare or fairness question), use the integral.
* When the two disagree on a policy, say so in the report: the choice of rule is a choice
  of objective, not a technical detail.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
rank = {rule: dict(zip(results.policies, results.rankings(rules=[rule])[rule]))
        for rule in rules}
assert rank["peak_end"]["farewell_gift"] < rank["integral"]["farewell_gift"]
assert rank["integral"]["hall_experience"] < rank["end"]["hall_experience"]
assert len(disagreement) > 0
assert vip_gain["integral"][1] > 0  # better advice: a significant gain in total experience
assert vip_gain["mean"][1] > 0
# ... hardly remembered: peak-end and the mean are on the same affect scale
assert vip_gain["peak_end"][0] < 0.25 * vip_gain["mean"][0]
"""),
]


# --------------------------------------------------------------------------- 06
LOYALTY = [
    md("""
# Loyalty over repeated visits

One visit is remembered; many visits make a relationship. Customers come back week after
week, and two things happen between visits:

* **expectations adapt** to what was experienced (`expectation += eta * (experience -
  expectation)`), so a pleasant surprise repeated at every visit turns into the norm
  (*habituation*: the automatic birthday text message);
* after a visit remembered badly, a customer may **not come back** (churn, a logistic
  function of the remembered value).

`peakend.loyalty` follows a panel of customers over many weeks under a policy. Here: 50 VIP,
300 gold and 1,000 ordinary customers over a year, under the baseline, the farewell gift
and the lunch teller. Every assumption is a parameter of `LoyaltyModel`; read the
numbers as a what-if, not a forecast.
"""),
    code(SETUP + """
from peakend import loyalty"""),
    code("""
scenario = pe.load_scenario("default_branch")
builtin = {p.name: p for p in pe.experiment.load_policies("default_branch")}
names = ["baseline", "farewell_gift", "lunch_teller"]
panel = {"vip": 50, "gold": 300, "ordinary": 1000}
model = loyalty.LoyaltyModel(eta=0.3, visit_probability=0.25)
panels = {name: loyalty.simulate_loyalty(builtin[name].apply(scenario), panel, weeks=52,
                                         model=model, seed=4)
          for name in names}
for name, res in panels.items():
    kept = res.retention()[-1]
    print(f"{name:14s} still active after a year: " +
          ", ".join(f"{s} {k:.0%}" for s, k in zip(res.segments, kept)))
"""),
    md("""
## Retention week by week

The same seed gives every policy the same visitors each week and the same random draws
behind churn (common random numbers), so the curves differ only by the policy. The VIP
panel is small (50 customers), hence its coarse steps.
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True, layout="constrained")
weeks = np.arange(53)
for k, (ax, segment) in enumerate(zip(axes, panels["baseline"].segments)):
    for name, res in panels.items():
        ax.plot(weeks, 100 * res.retention()[:, k], label=name)
    ax.set_title(segment)
    ax.set_xlabel("week")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("panel still active (%)")
axes[0].legend(fontsize=8);
"""),
    md("""
Look at the gold panel: the farewell gift leads early, and the lunch teller catches up in
the second half of the year. Why? The next figure shows it.

## Habituation: the gift that stops surprising

Under the farewell-gift policy, the farewell is a positive peak at first. Week after week
the expectation at the farewell rises towards what is experienced, and the affect it
produces fades towards zero: the same gift, a smaller surprise.
"""),
    code("""
res = panels["farewell_gift"]
farewell = res.touchpoints.index("farewell")
fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
for k, segment in enumerate(res.segments):
    if segment == "vip":
        continue
    ax.plot(np.arange(1, 53), res.affect[:, k, farewell],
            label=f"{segment}: affect at the farewell")
ax.axhline(0, color="0.3", lw=0.8)
ax.set_xlabel("week")
ax.set_ylabel("mean affect at the farewell (−10..10)")
ax.set_title("Farewell gift: habituation over repeated visits")
ax.legend(fontsize=8);
"""),
    md("""
## Early warning

Each week, the visitors whose remembered value fell below the warning threshold (-3 by
default) are listed, worst first: the customers a relationship manager should call.
"""),
    code("""
for name, res in panels.items():
    per_week = np.bincount(res.warnings["week"], minlength=res.weeks)
    print(f"{name:14s} {per_week.sum():5d} warnings in the year, "
          f"{per_week.mean():.1f} a week on average")
"""),
    md("""
## From remembered value to revenue

`value_of_policy` turns a policy's simulated visits into retained customers and revenue
per segment over a horizon (three years by default), against the baseline. It uses the
segment values of the scenario (currency per customer per year) and the same churn
model; each assumption is an argument.
"""),
    code("""
customers = {"vip": 500, "gold": 3000, "ordinary": 10000}
days = {name: pe.Journeys.concat([pe.simulate(builtin[name].apply(scenario), seed=k)
                                  for k in range(8)])
        for name in names}
for name in names[1:]:
    value = loyalty.value_of_policy(days[name], customers, baseline=days["baseline"])
    total = value["all"]
    print(f"{name:14s} retained customers {total['retained_change']:+8.0f}, "
          f"revenue over 3 years {total['revenue_change']:+14,.0f} {scenario.currency}")
"""),
    md("""
The numbers rest on assumptions (the churn curve, visits per year, segment values) that a
real study calibrates against the bank's own retention data; what the simulation adds is
the link from an operational policy, through what customers remember, to those figures.
Eight simulated days per policy keep this notebook fast; use more for a decision.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
fw = panels["farewell_gift"]
tp = fw.touchpoints.index("farewell")
early = np.nanmean(fw.affect[:10, :, tp], axis=0)
late = np.nanmean(fw.affect[-10:, :, tp], axis=0)
gold, ordinary = fw.segments.index("gold"), fw.segments.index("ordinary")
assert late[gold] < early[gold] - 1.0 and late[ordinary] < early[ordinary] - 1.0  # habituation
base = panels["baseline"].retention()[-1]
assert all(panels[n].retention()[-1][gold] > base[gold] for n in names[1:])
"""),
]


# --------------------------------------------------------------------------- 08
EXPLORE = [
    md("""
# Explore what-ifs live

`pe.explore(scenario)` opens a small app in the notebook: sliders and toggles for the levers
a branch manager can pull (tellers per time block and window, the window discipline, the VIP
lounge, distraction and a wait display in the hall, a farewell and a gift per segment, the
share of visits booked as appointments). Every change re-simulates the same days as the
baseline (*common random numbers*: the same customers, with the same business, service times
and patience) and redraws, in about a second, the per-segment remembered value against the
baseline, the hall queue over the day, and one customer's journey.

In a live kernel, move the sliders. On this page (a rendered notebook) the widget cannot run,
so we drive it from code, as a script or a test would: `app.controls` holds the widgets by
lever name, and `app.summary` is the table the app shows, updated as soon as a value is set.
"""),
    code(SETUP + """
from IPython.display import Image, display"""),
    code("""
app = pe.explore("default_branch", "default_branch", replications=20, seed=7)
app
"""),
    code("""
sorted(app.controls)
"""),
    md("""
## One more teller at lunch

The lunch peak (12:00-14:00) is when the hall fills up. Give the general counters a fifth
teller from 11:30 to 14:00:
"""),
    code("""
app.controls["tellers.general.11:30"].value = 5
app.summary.round(2)
"""),
    code("""
display(Image(app.images["segments"]), Image(app.images["queue"]))
"""),
    md("""
Gold and ordinary customers wait less and remember the visit better; VIPs, served at their
own window, are unaffected (their difference is exactly zero: the same days, the same VIPs).

## And a farewell gift for ordinary customers

The end of the visit is half of what the peak-end rule remembers. Switch on the farewell
protocol for ordinary customers, with a small gift worth 2 (the scenario's currency):
"""),
    code("""
app.controls["farewell.ordinary"].value = True
app.controls["gift.ordinary"].value = 2.0
app.summary.round(2)
"""),
    code("""
app.controls["customer"].value = 40
display(Image(app.images["journey"]))
"""),
    md("""
## From a what-if to a study

A few settings that look good on 20 days deserve a proper run. `app.policy()` is the current
what-if as a `pe.Policy`, ready for `pe.run` with more replications; the explorer's days are
`pe.run`'s days for the same seed, so the numbers agree.
"""),
    code("""
what_if = app.policy("lunch teller + gift")
results = pe.run(pe.load_scenario("default_branch"), [pe.Policy("baseline"), what_if],
                 replications=60, seed=7, progress=False)
results.compare("baseline", "peak_end")
"""),
    md("""
The claims of this notebook, checked:
"""),
    code("""
s = app.summary.set_index("segment")
assert s.loc["vip", "difference"] == 0
assert s.loc["ordinary", "low"] > 0 and s.loc["gold", "low"] > 0
assert s.loc["all", "wait_what_if"] < s.loc["all", "wait_baseline"]
table = results.compare("baseline", "peak_end")
rows = {seg: i for i, seg in enumerate(table["segment"])}
assert table["low"][rows["all"]] > 0 and table["p_holm"][rows["ordinary"]] < 0.05
first = pe.run(pe.load_scenario("default_branch"), [pe.Policy("baseline"), what_if],
               replications=20, seed=7, progress=False)
assert abs(first.get("peak_end", "all").mean(axis=1)[1] - s.loc["all", "what_if"]) < 1e-12
"""),
]


# --------------------------------------------------------------------------- 09
ADVISORS = [
    md("""
# Wealth clients and relationship managers: a branch with two stages

In `branch_with_advisors` a visit can have two service stages. Wealth business starts with
a short check-in at a teller, and a share of those customers then go on to a
relationship manager (RM) for the advice itself; VIP wealth clients all see an RM, most
of them going straight there. Everyone else sees a teller only. Who goes where, how long
do they wait at each stage, and what does the branch gain from another RM, or from
referring more (or fewer) wealth customers to one?

Each what-if runs on the same simulated days as the baseline (common random numbers).
Replications are kept small so that the notebook runs in seconds; a real study uses a
few hundred, and the intervals below say how much the small count costs in precision.
"""),
    code(SETUP_PANDAS),
    md("""
## The branch and its routes

A scenario with stages names its first stage (the tellers, staffed by `counters`) and
lists the further stages, each with its own counter groups, service times and
expectations. A route belongs to a business type, optionally refined per segment;
`scenario.route(segment, business)` gives the stages a customer may visit and the chance
of visiting each one.
"""),
    code("""
scenario = pe.load_scenario("branch_with_advisors")
print(scenario.description)
print("stages:", " -> ".join(scenario.stage_names))
advisor = scenario.stages["advisor"]
for name, group in advisor.counters.items():
    print(f"advisor counter group {name!r}: {group.tellers} RMs, {group.discipline} "
          f"{group.priority}, {group.cost_per_hour:.0f} {scenario.currency} per hour")
print("expected wait at the advisor (minutes):", advisor.expected_wait)
print("wait multiplier at the advisor:", advisor.wait_multiplier)
print("routes of more than one stage:")
for segment in scenario.segments:
    for business in scenario.business_types:
        stages, shares = scenario.route(segment, business)
        if len(stages) > 1:
            steps = ", ".join(f"{s} {p:.0%}" for s, p in zip(stages, shares, strict=True))
            print(f"  {segment:9s} {business:7s} chance of visiting: {steps}")
"""),
    md("""
The shares are independent draws per customer and stage: a VIP wealth client visits the
teller with the teller's chance and the advisor always; a gold or ordinary wealth
customer always starts at the teller and is referred on with the advisor's chance.

## One day, stage by stage

`day.stage_visits` has one row per stage visit, in each customer's route order:
`queue_join`, `service_start`, `service_end` (minutes from opening; NaN when not served
there), `left` (when an abandoning customer left that queue), the serving `counter` and
`abandoned`. `to_pandas("stage_visits")` decodes the stage and counter names and adds
the visitor's `segment` and `business` and the `wait` at that stage (to the service start,
or to leaving the queue; 0 for a balk).
"""),
    code("""
day = pe.simulate(scenario, seed=1)
visits = day.to_pandas("stage_visits")
two_stage = visits.groupby("customer")["stage"].transform("size") == 2
visits[two_stage].head(6)
"""),
    md("""
A customer referred on joins the RM queue the moment the teller is done: the second
row's `queue_join` is the first row's `service_end`. Counters of a later stage are named
`<stage>/<group>/<k>`.

To study the stages we add two things to this table, from public columns: the
customer's remembered value and the route actually walked.
"""),
    code("""
def stage_frame(journeys):
    \"\"\"Stage visits (with wait, segment, business) plus remembered value and route.\"\"\"
    visits = journeys.to_pandas("stage_visits")
    customers = journeys.to_pandas("customers")
    # the route walked: routes follow the order of journeys.stages, so the set of stages
    # visited (one bit per stage, summed per customer) names it
    keys = ["day", "customer"]
    bits = pd.Series(1 << journeys.stage_visits["stage"].astype(np.int64), index=visits.index)
    code = bits.groupby([visits["day"], visits["customer"]]).transform("sum")
    names = {b: " -> ".join(s for k, s in enumerate(journeys.stages) if b >> k & 1)
             for b in np.unique(code)}
    visits["route"] = code.map(names)
    return visits.join(customers.set_index(keys)[["remembered"]], on=keys)


def customer_frame(journeys, visits=None):
    \"\"\"Return the customers table with the route each customer walked.\"\"\"
    visits = stage_frame(journeys) if visits is None else visits
    routes = visits.drop_duplicates(["day", "customer"]).set_index(["day", "customer"])
    customers = journeys.to_pandas("customers")
    return customers.join(routes["route"], on=["day", "customer"])
"""),
    md("""
## The experiment, and the baseline's days

We simulate the built-in policy set of the scenario, plus one what-if of our own: a
branch with a single RM (does the second one earn its cost?). `keep_journeys=True` keeps
every simulated day, so that we can look inside the stages of the very days the
comparison uses.
"""),
    code("""
REPLICATIONS = 20  # small, to keep the notebook fast: a real study uses a few hundred
policies = pe.experiment.load_policies("branch_with_advisors")
one_rm = {"stages": {"advisor": {"counters": {"rm": {"tellers": 1}}}}}
policies.append(pe.Policy("one_advisor", one_rm, description="a single relationship manager"))
for p in policies:
    print(f"{p.name:16s} {p.description}")
results = pe.run(scenario, policies, replications=REPLICATIONS, seed=12, progress=False,
                 keep_journeys=True)
base_days = results.journeys["baseline"]
print(f"{REPLICATIONS} days per policy; the baseline's days hold {base_days.n_customers} customers")
"""),
    md("""
## Who goes teller -> RM, and who goes straight to the RM

Wealth customers by segment and the route they walked over the baseline's days. A
customer who gave up in a queue walked only part of their route (the stages up to
that queue).
"""),
    code("""
customers = customer_frame(base_days)
wealth = customers[customers["business"] == "wealth"]
routes = pd.crosstab(wealth["segment"], wealth["route"])
routes
"""),
    code("""
vip_wealth = wealth[wealth["segment"] == "vip"]
straight = (vip_wealth["route"] == "advisor").mean()
_, shares = scenario.route("vip", "wealth")
print(f"VIP wealth clients straight to the RM: {straight:.0%} of {len(vip_wealth)} "
      f"(configured: {1 - shares[0]:.0%})")
for segment in ("gold", "ordinary"):
    seg = wealth[wealth["segment"] == segment]
    _, shares = scenario.route(segment, "wealth")
    print(f"{segment} wealth customers referred on to an RM: "
          f"{seg['route'].str.endswith('advisor').mean():.0%} of {len(seg)} "
          f"(configured: {shares[1]:.0%} of those served at the teller)")
"""),
    md("""
## Waits per stage and per segment

The mean and 90th percentile of the wait at each stage, the share of visits that waited
at all, and the share that abandoned there.
"""),
    code("""
stage_visits = stage_frame(base_days)
waits = (stage_visits.groupby(["stage", "segment"], observed=True)
         .agg(visits=("wait", "size"), wait_mean=("wait", "mean"),
              wait_p90=("wait", lambda w: w.quantile(0.9)),
              waited=("wait", lambda w: (w > 0).mean()), abandoned=("abandoned", "mean")))
waits.round(2)
"""),
    code("""
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
waits["wait_mean"].unstack("stage").plot.bar(ax=ax, rot=0)
ax.set_ylabel("mean wait at the stage (minutes)")
ax.set_xlabel("")
ax.set_title("Baseline: mean wait per stage and segment")
ax.legend(title="stage");
"""),
    md("""
Most advisor visits start at once: the RMs are lightly loaded on average
(`scenario.stage_load("advisor")` below), but a few wealth customers meet a busy RM, and
then the wait is long, since an RM conversation lasts much longer than a teller's
transaction. The mean hides this; the 90th percentile and the share who waited show it.
"""),
    code("""
print(f"offered load at the advisor stage: {scenario.stage_load('advisor'):.2f} "
      f"(an upper bound: every customer who may be routed there, counted)")
advisor_visits = stage_visits[stage_visits["stage"] == "advisor"]
waited = advisor_visits[advisor_visits["wait"] > 0]
print(f"advisor visits that waited: {len(waited)} of {len(advisor_visits)}, "
      f"for {waited['wait'].mean():.1f} minutes on average")
"""),
    md("""
## What is remembered, by route

The remembered value (peak-end rule, affect scale -10..10) of the customers by segment and
route walked.
"""),
    code("""
by_route = (customers.groupby(["segment", "route"], observed=True)["remembered"]
            .agg(["mean", "size"]))
by_route.round(2)
"""),
    md("""
Where do the best and worst moments of the customers who saw an RM come from? Each
stage adds its own touchpoints, `wait@advisor` and `service@advisor`, rated against the
stage's expectations per segment, so the moments-of-truth analysis reads them like any
other touchpoint.
"""),
    code("""
saw_rm = np.zeros(base_days.n_customers, dtype=bool)
saw_rm[np.flatnonzero(customers["route"].str.endswith("advisor"))] = True
mot = pe.cem.moments_of_truth(base_days.select(saw_rm))
ax = pe.plots.moments_of_truth(mot)
"""),
    md("""
## Two journeys with two stages

Two of the baseline's customers: the one referred from the teller to an RM who waited
longest at the RM, and a VIP who went straight to an RM. Each stage is a wait and a
service episode; the circle marks the peak, the square the end, the dashed line what is
remembered.
"""),
    code("""
ends_at_rm = customers["route"].str.endswith("advisor").to_numpy()
rm_wait = np.full(base_days.n_customers, -1.0)
rows = stage_visits["stage"] == "advisor"
index = {key: i for i, key in enumerate(zip(customers["day"], customers["customer"], strict=True))}
for (d, c, w) in zip(stage_visits["day"][rows], stage_visits["customer"][rows],
                     stage_visits["wait"][rows], strict=True):
    rm_wait[index[(d, c)]] = w
via_teller = np.flatnonzero((customers["route"] == "teller -> advisor").to_numpy())
referred = int(via_teller[np.argmax(rm_wait[via_teller])])
vip_straight = np.flatnonzero(((customers["route"] == "advisor")
                               & (customers["segment"] == "vip")).to_numpy())
straight_vip = int(vip_straight[np.argmax(rm_wait[vip_straight])])
for i in (referred, straight_vip):
    print(f"customer {i}: {customers['segment'][i]}, {customers['route'][i]}, "
          f"RM wait {rm_wait[i]:.1f} min, remembered {customers['remembered'][i]:+.2f}")
ax = pe.plots.journey_map(base_days, customers=[referred, straight_vip])
"""),
    md("""
## The what-if: advisor staffing and referrals

Paired differences against the baseline over the same days, per segment, with 95 %
intervals and Holm-adjusted p-values; `significant` says whether the adjusted p-value
is below 5 %.
"""),
    code("""
table = results.compare("baseline", ["remembered[peak_end]", "wait_mean"])
columns = ["policy", "segment", "metric", "difference", "low", "high", "p_holm", "significant"]
table[columns].round(3)
"""),
    code("""
ax = pe.plots.policy_comparison(results.compare("baseline", "peak_end"), baseline="baseline")
"""),
    md("""
Segment averages dilute a change that only touches the customers who see an RM: most
customers of every segment never do. Looking at the wealth customers alone (the same
customers under every policy, since who arrives and with what business does not depend
on the policy) and at the wait per RM visit, with paired intervals over the same days
(`pe.stats.paired_difference`):
"""),
    code("""
def per_day(journeys):
    \"\"\"Return per replication the mean RM wait per visit and wealth customers' remembered.\"\"\"
    visits = stage_frame(journeys)
    rm = visits[visits["stage"] == "advisor"].groupby("day")["wait"].mean()
    c = customer_frame(journeys, visits)
    wealth = c[c["business"] == "wealth"].groupby("day")["remembered"].mean()
    days = range(REPLICATIONS)
    return rm.reindex(days).to_numpy(), wealth.reindex(days).to_numpy()


daily = {p.name: per_day(results.journeys[p.name]) for p in policies}
rows = []
for p in policies[1:]:
    for k, what in enumerate(("RM wait per visit (min)", "wealth customers' remembered")):
        d = pe.stats.paired_difference(daily[p.name][k], daily["baseline"][k])
        rows.append({"policy": p.name, "quantity": what, "difference": float(d.mean),
                     "low": float(d.low), "high": float(d.high), "p_value": float(d.p_value)})
stage_table = pd.DataFrame(rows)
stage_table.round(3)
"""),
    md("""
## Cost against what is remembered

Each policy's daily cost (staff, fixed costs, gifts) against the mean remembered value of
all customers; the green line joins the Pareto-efficient policies.
"""),
    code("""
front = results.pareto("peak_end")
ax = pe.plots.cost_value_pareto(front["cost"], front["value"], list(front["policy"]),
                                xlabel=f"cost ({scenario.currency} per day)")
results.cost_per_point("baseline")[["policy", "cost_difference", "value_difference",
                                     "value_low", "value_high", "cost_per_point", "note"]]
"""),
    md("""
## What a branch manager should take from it

The figures below are computed from this run, not typed in.
"""),
    code("""
cmp = results.compare("baseline", "peak_end").set_index(["policy", "segment"])
cost = results.compare("baseline", "cost").set_index(["policy", "segment"])["difference"]
st = stage_table.set_index(["policy", "quantity"])
wealth_col, rm_col = "wealth customers' remembered", "RM wait per visit (min)"
for name in ("third_advisor", "one_advisor"):
    print(f"{name}: {cost[(name, 'all')]:+.0f} {scenario.currency} a day; RM wait per visit "
          f"{st.loc[(name, rm_col), 'difference']:+.2f} min; wealth customers remember "
          f"{st.loc[(name, wealth_col), 'difference']:+.3f} "
          f"[{st.loc[(name, wealth_col), 'low']:+.3f}, {st.loc[(name, wealth_col), 'high']:+.3f}]; "
          f"all customers {cmp.loc[(name, 'all'), 'difference']:+.3f} "
          f"(significant: {bool(cmp.loc[(name, 'all'), 'significant'])})")
for name in ("more_referrals", "fewer_referrals"):
    w = st.loc[(name, wealth_col)]
    print(f"{name}: RM wait per visit {st.loc[(name, rm_col), 'difference']:+.2f} min; wealth "
          f"customers remember {w['difference']:+.3f} [{w['low']:+.3f}, {w['high']:+.3f}]; "
          f"all customers {cmp.loc[(name, 'all'), 'difference']:+.3f} "
          f"(significant: {bool(cmp.loc[(name, 'all'), 'significant'])})")
"""),
    md("""
* **Staffing the RMs is a question about a few customers.** A third RM clearly shortens
  the RM waits, but the RMs are seldom busy today, so the wealth customers gain little
  from it (far less than they lose when one of today's two RMs is taken away), over all
  customers the gain is smaller still, and it costs a full RM day.
  Taking one RM away saves that cost and hurts the wealth customers who then meet a busy
  RM: read their interval, not the branch average, before deciding.
* **A referral adds a second wait and a second service to the visit**, each rated
  against the customer's expectations of that stage. Referring more wealth customers to
  an RM lengthens the RM waits and, on average, lowers what the wealth customers
  remember; whether that is worth it depends on the business the advice brings, which
  this model does not price.
* **Read the stages, not only the segments.** `day.stage_visits` shows where the
  time goes and who waited at which stage; a change at the second stage is diluted in a
  segment mean that is mostly made of teller-only customers.

With few replications a difference of a few hundredths of a point is noise; rerun with
`replications=200` (and `workers=2`) before acting on one.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
assert scenario.route("vip", "wealth")[1][1] == 1.0  # every VIP wealth client sees an RM
assert all(scenario.route(s, "wealth")[1][0] == 1.0 for s in ("gold", "ordinary"))
first, second = visits[two_stage].iloc[0::2], visits[two_stage].iloc[1::2]
assert (second["queue_join"].to_numpy() == first["service_end"].to_numpy()).all()
assert 0.5 < straight < 0.9  # most VIP wealth clients go straight to an RM
assert routes.loc["vip"].get("teller", 0) == 0  # ... and every one of them sees an RM
assert (customers.loc[customers["business"] != "wealth", "route"] == "teller").all()
assert (waits.loc["advisor", "waited"] < 0.5).all()  # most RM visits start at once
teller_visits = stage_visits[stage_visits["stage"] == "teller"]
assert waited["wait"].mean() > teller_visits.loc[teller_visits["wait"] > 0, "wait"].mean()
service = stage_visits["service_end"] - stage_visits["service_start"]
assert service[advisor_visits.index].mean() > 2 * service[teller_visits.index].mean()
for p in policies[1:]:  # the same customers, with the same business, under every policy
    other = results.journeys[p.name].customers
    assert np.array_equal(other["business"], base_days.customers["business"])
third, one = st.loc[("third_advisor", rm_col)], st.loc[("one_advisor", rm_col)]
assert third["high"] < 0 and one["low"] > 0  # more RMs, shorter RM waits
gain, loss = (st.loc[(name, wealth_col), "difference"] for name in ("third_advisor",
                                                                    "one_advisor"))
assert 0 < gain < -loss / 3  # the third RM: a small gain next to the loss of the second
assert st.loc[("one_advisor", wealth_col), "high"] < 0  # one RM: worse for wealth customers
assert cost[("third_advisor", "all")] > 0 > cost[("one_advisor", "all")]
assert st.loc[("more_referrals", wealth_col), "difference"] < 0  # remembered worse
assert st.loc[("more_referrals", rm_col), "low"] > 0  # ... after longer RM waits
for name in ("third_advisor", "one_advisor", "more_referrals"):  # diluted in the branch mean
    assert abs(cmp.loc[(name, "all"), "difference"]) < abs(st.loc[(name, wealth_col), "difference"])
mean_wait = results.summary("wait_mean", "all").set_index("policy")["mean"]
assert mean_wait["more_referrals"] > mean_wait["baseline"]
"""),
]


# --------------------------------------------------------------------------- 10
CLINIC = [
    md("""
# A clinic visit: triage, doctor, pharmacy

`peakend` is not only for banks: any service whose customers queue, are served and
remember the visit is a network of stages. The built-in `clinic` sends patients through
up to three stages, a triage nurse, a doctor and the clinic's pharmacy, and has three
kinds of patients: **urgent** (seen first at triage and by the doctor), **booked**
(an appointment) and **walk-in**.

We ask where a patient's time goes, which of the clinic's what-if policies gives the
best remembered visit at what cost, and whether a wait at the *end* of the visit, at the
pharmacy, weighs more in memory than the same wait before the doctor, as the peak-end
rule suggests.

Replications are kept small so that the notebook runs in seconds; a real study uses a
few hundred, and the intervals below say how much the small count costs in precision.
"""),
    code(SETUP_PANDAS),
    md("""
## The clinic

Each stage has its own counter groups, service times per kind of visit, and
expectations per segment; a route (per business type, optionally per segment) says
which stages a patient visits and with what chance.
"""),
    code("""
scenario = pe.load_scenario("clinic")
print(scenario.description)
print(f"about {scenario.expected_arrivals():.0f} patients a day; "
      f"staff cost {scenario.staff_cost():.0f} {scenario.currency} a day")
print("stages:", " -> ".join(scenario.stage_names))


def staff(tellers):
    \"\"\"Write a constant staff count, or a shift plan as 'HH:MM count' blocks.\"\"\"
    if isinstance(tellers, int):
        return str(tellers)
    return ", ".join(f"{int(b.start):02d}:{round(b.start % 1 * 60):02d} {b.count}" for b in tellers)


groups = {scenario.first_stage: scenario.counters}
groups.update({name: stage.counters for name, stage in scenario.stages.items()})
for stage, counters in groups.items():
    for name, group in counters.items():
        print(f"  {stage:8s} {name:11s} staff {staff(group.tellers)}; {group.discipline} "
              f"{group.priority}")
for name, stage in scenario.stages.items():
    print(f"expected wait at the {name} (minutes): {stage.expected_wait}; "
          f"wait multiplier {stage.wait_multiplier}, patience scale {stage.patience_scale}")
print("routes (chance of visiting each stage):")
for segment in scenario.segments:
    for business, share in scenario.segments[segment].business_mix.items():
        stages, shares = scenario.route(segment, business)
        steps = ", ".join(f"{s} {p:.0%}" for s, p in zip(stages, shares, strict=True))
        print(f"  {segment:8s} {business:12s} ({share:.0%} of the segment): {steps}")
"""),
    md("""
Booked consultations skip triage and go straight to the doctor; the triage nurse settles
some follow-ups alone; a share of the patients leave the doctor without a prescription.
The wait at the pharmacy is expected to be shorter than the wait for the doctor, and
patience wears thin there, after two waits.

## The experiment, and the baseline's days

The clinic's built-in policy set staffs a stage or changes a route. We add one what-if
of our own, the pharmacist's lunch break (nobody at the pharmacy from 12:00 to 13:00),
to see what a long wait at the end of the visit does. Besides the scenario's own memory
rule (peak-end) we score every visit with the peak-end rule whose *end* is the last
three minutes of the visit (Redelmeier and Kahneman measured the end that way) and with
the plain mean; we use them in the last part. `keep_journeys=True` keeps the simulated
days, so that we can look inside the stages of the very days the comparison uses.
"""),
    code("""
REPLICATIONS = 20  # small, to keep the notebook fast: a real study uses a few hundred
END_WINDOW = pe.get_rule("peak_end", end_window=3.0)  # the end: the last 3 minutes
policies = pe.experiment.load_policies("clinic")
lunch_break = [{"start": "08:00", "count": 1}, {"start": "12:00", "count": 0},
               {"start": "13:00", "count": 1}]
policies.append(pe.Policy(
    "pharmacy_break",
    {"stages": {"pharmacy": {"counters": {"pharmacists": {"tellers": lunch_break}}}}},
    description="no pharmacist from 12:00 to 13:00 (lunch break)"))
for p in policies:
    print(f"{p.name:18s} {p.description}")
results = pe.run(scenario, policies, replications=REPLICATIONS, seed=5, progress=False,
                 rules=["peak_end", END_WINDOW, "mean"], keep_journeys=True)
base = results.journeys["baseline"]
print(f"{REPLICATIONS} days per policy; the baseline's days hold {base.n_customers} patients")
"""),
    md("""
## Who goes where

`journeys.stage_visits` has one row per stage visit, in each patient's route order;
`to_pandas("stage_visits")` adds the patient's segment and kind of visit (`business`) and
the wait at each stage (to the service start, or to leaving the queue). We add the
remembered value and the route walked (a patient who left a queue walked only the stages
up to it).
"""),
    code("""
def stage_frame(journeys):
    \"\"\"Stage visits (with wait, segment, business) plus remembered value and route.\"\"\"
    visits = journeys.to_pandas("stage_visits")
    customers = journeys.to_pandas("customers")
    visits["service"] = (visits["service_end"] - visits["service_start"]).fillna(0.0)
    # the route walked: routes follow the order of journeys.stages, so the set of stages
    # visited (one bit per stage, summed per customer) names it
    keys = ["day", "customer"]
    bits = pd.Series(1 << journeys.stage_visits["stage"].astype(np.int64), index=visits.index)
    code = bits.groupby([visits["day"], visits["customer"]]).transform("sum")
    names = {b: " -> ".join(s for k, s in enumerate(journeys.stages) if b >> k & 1)
             for b in np.unique(code)}
    visits["route"] = code.map(names)
    return visits.join(customers.set_index(keys)[["remembered"]], on=keys)


visits = stage_frame(base)
patients = visits.drop_duplicates(["day", "customer"])
pd.crosstab([patients["segment"], patients["business"]], patients["route"])
"""),
    md("""
## Where the time goes, stage by stage

Minutes per patient of each segment spent waiting and being served at each stage (a
stage a patient does not visit counts zero), averaged over the baseline's days.
"""),
    code("""
n_patients = patients.groupby("segment", observed=True).size()
minutes = (visits.groupby(["segment", "stage"], observed=True)[["wait", "service"]].sum()
           .div(n_patients, axis=0, level="segment").unstack("stage"))
minutes = minutes.reindex(columns=pd.MultiIndex.from_product(
    [["wait", "service"], scenario.stage_names]))
minutes.round(1)
"""),
    code("""
fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
left = np.zeros(len(minutes))
colors = dict(zip(scenario.stage_names, ["tab:blue", "tab:orange", "tab:green"], strict=True))
for stage in scenario.stage_names:
    for part, alpha in (("wait", 0.45), ("service", 1.0)):
        width = minutes[(part, stage)].to_numpy()
        ax.barh(minutes.index.astype(str), width, left=left, color=colors[stage], alpha=alpha,
                label=f"{part} at {stage}")
        left += width
ax.set_xlabel("minutes per patient (mean)")
ax.set_title("Baseline: where a patient's time goes (pale: waiting, solid: served)")
ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.25));
"""),
    md("""
Walk-ins spend the most time waiting, nearly all of it for the doctor; urgent patients
are seen first but still wait for a free doctor, who is busy with a consultation (the
priority is not preemptive); triage and pharmacy waits are short for everyone. Waits
are not memories, though: a walk-in *expects* a long wait, an urgent patient does not.
The mean affect at each touchpoint per segment, the Delta law at work:
"""),
    code("""
episodes = base.to_pandas("episodes")
mean_affect = episodes.pivot_table(index="touchpoint", columns="segment", values="affect",
                                   aggfunc="mean", observed=True)
mean_affect.round(2)
"""),
    md("""
## The what-if policies

Paired differences against the baseline (the same patients, service times and patience
under every policy), per segment, with 95 % intervals; filled points are significant
after Holm's adjustment.
"""),
    code("""
ax = pe.plots.policy_comparison(results.compare("baseline", "peak_end"), baseline="baseline")
"""),
    code("""
metrics = ["remembered[peak_end]", "wait_mean", "abandonment_rate"]
table = results.compare("baseline", metrics, "all")
table[["policy", "metric", "difference", "low", "high", "p_holm", "significant"]].round(3)
"""),
    code("""
front = results.pareto("peak_end")
ax = pe.plots.cost_value_pareto(front["cost"], front["value"], list(front["policy"]),
                                xlabel=f"cost ({scenario.currency} per day)")
per_point = results.cost_per_point("baseline")
per_point[["policy", "cost_difference", "value_difference", "value_low", "value_high",
           "cost_per_point", "note"]]
"""),
    code("""
cmp = results.compare("baseline", "peak_end", "all").set_index("policy")
best = cmp["difference"].idxmax()
cost = per_point.set_index("policy")["cost_difference"]
print(f"best remembered visit: {best}, {cmp.loc[best, 'difference']:+.2f} points "
      f"[{cmp.loc[best, 'low']:+.2f}, {cmp.loc[best, 'high']:+.2f}] for "
      f"{cost[best]:+.0f} {scenario.currency} a day")
free = cmp[(cost[cmp.index] <= 0) & cmp["significant"] & (cmp["difference"] > 0)]
for name, row in free.iterrows():
    print(f"significant gain at no extra cost: {name}, {row['difference']:+.2f} points")
for name in cmp.index:
    if cost[name] > 0 and name != best:
        print(f"{name}: {cmp.loc[name, 'difference']:+.3f} points for {cost[name]:+.0f} "
              f"{scenario.currency} a day")
"""),
    md("""
* **A fourth doctor gives the best remembered visit**, and most of the gain goes to the
  walk-ins, whose time goes to waiting for the doctor. It is also the dearest policy.
* **Letting the nurses settle more follow-ups at triage costs nothing** and gives a
  clear gain: fewer patients queue for a doctor. A route is a policy lever like staffing.
* **A second pharmacist buys little**: the pharmacy wait is already short, so there is
  little left to improve; its gain is a small fraction of the fourth doctor's, for nearly
  half the extra cost.
* **The pharmacist's lunch break makes the visit clearly worse**; it is a long wait at
  the very end of the visit, which is the question of the next section.

## Does a wait weigh more at the end of the visit?

The peak-end rule remembers a visit by its most intense moment and by its end. A long
wait at the pharmacy comes at the end of a clinic visit; a long wait for the doctor in
its middle. Does the same wait weigh more at the pharmacy? We can test it on the
simulated visits themselves: take every patient of the baseline who waited at least ten
minutes for the doctor and went on to the pharmacy, and move that wait to the pharmacy
(swap the two wait episodes, each with its affect and its duration). Nothing else
changes: the same moments, in a different order.
"""),
    code("""
ep = base.episodes
owner = base.episode_customer
durations = base.durations
position = {}
for stage in ("doctor", "pharmacy"):
    rows = np.flatnonzero(ep["touchpoint"] == base.code("touchpoints", f"wait@{stage}"))
    position[stage] = np.full(base.n_customers, -1)
    position[stage][owner[rows]] = rows  # each patient waits at most once per stage
doctor, pharmacy = position["doctor"], position["pharmacy"]
both = (doctor >= 0) & (pharmacy >= 0)
chosen = np.flatnonzero(both & (np.where(both, durations[doctor], 0.0) >= 10.0))
i, j = doctor[chosen], pharmacy[chosen]
affect = ep["affect"]
moved_affect, moved_durations = affect.copy(), durations.copy()
moved_affect[i], moved_affect[j] = affect[j], affect[i]
moved_durations[i], moved_durations[j] = durations[j], durations[i]

rules = ["peak_end", END_WINDOW, pe.get_rule("recency"), "mean", "integral"]
as_simulated = pe.score_many(affect, base.offsets, rules, durations=durations)
moved = pe.score_many(moved_affect, base.offsets, rules, durations=moved_durations)
rows = []
for label in as_simulated:
    d = pe.stats.paired_difference(moved[label][chosen], as_simulated[label][chosen])
    rows.append({"rule": label, "wait before the doctor": as_simulated[label][chosen].mean(),
                 "same wait at the pharmacy": moved[label][chosen].mean(),
                 "difference": float(d.mean), "low": float(d.low), "high": float(d.high)})
swap = pd.DataFrame(rows)
print(f"{len(chosen)} patients waited at least 10 minutes for the doctor, "
      f"then went to the pharmacy")
swap.round(3)
"""),
    md("""
The mean and the integral do not change: they ignore the order of the moments, which
confirms that the swap changed only the order. The other rules answer the question, and
they do not all answer it the same way. Why not? Look at what the *end* of a clinic
visit is in the simulation:
"""),
    code("""
last = base.offsets[1:] - 1
last_touchpoint = pd.Series(np.asarray(base.touchpoints)[ep["touchpoint"][last]])
print("last episode of each visit:", last_touchpoint.value_counts().to_dict())
last_seconds = pd.Series(60 * durations[last]).groupby(last_touchpoint).max()
print("its longest duration (seconds):", last_seconds.round(1).to_dict())
peak_rule = swap.set_index("rule").loc["peak_end"]
window = swap.set_index("rule").loc[END_WINDOW.label]
print(f"peak_end, end = the last episode: the move changes the remembered value by "
      f"{peak_rule['difference']:+.3f}")
print(f"peak_end, end = the last 3 minutes: by {window['difference']:+.3f} "
      f"[{window['low']:+.3f}, {window['high']:+.3f}]")
"""),
    md("""
With the scenario's rule the end is the last episode, and every visit ends with a moment
of a few seconds: the goodbye at the door, or the moment of leaving a queue. A wait,
wherever it sits, counts only if it is the most intense moment of the visit, and then it
counts the same before the doctor or at the pharmacy. Read as Redelmeier and Kahneman measured
it, the end is the last few minutes, and those contain the pharmacy: there the same
wait is remembered worse, and under the recency rule (memory fading with the time since
the moment) even more so.

So the peak-end point holds when "the end" is the last minutes of the visit, not its
last instant. Which reading fits a clinic's patients is an empirical question (fit the
rules to survey ratings with `pe.memory.fit`, see the how-to guide *Fit memory rules to
ratings*); the simulation lets you see what each reading implies. For the policies it
matters:
"""),
    code("""
rows = []
for rule in ("peak_end", END_WINDOW.label):
    t = results.compare("baseline", rule, "all").set_index("policy")
    for name in ("fourth_doctor", "nurse_follow_ups", "pharmacy_break"):
        rows.append({"rule": rule, "policy": name, "difference": t.loc[name, "difference"],
                     "low": t.loc[name, "low"], "high": t.loc[name, "high"]})
by_rule = pd.DataFrame(rows).pivot(index="policy", columns="rule", values="difference")
by_rule["ratio"] = by_rule[END_WINDOW.label] / by_rule["peak_end"]
by_rule.round(3)
"""),
    md("""
The lunch break, at the end of the visit, weighs more when the end is the last minutes:
its loss grows, while the gains of the fourth doctor and of the nurses' follow-ups, which
shorten waits in the middle of the visit, do not. (The second pharmacist's effect is too
small for such a comparison with this many replications.) The lunch break
also shows the other way the end of a visit goes wrong: patience is thinner at the
pharmacy, and a patient who gives up there leaves without their medicine, with the
abandonment as the last moment of the visit. The pharmacy queue over one simulated day,
and the patients who gave up at each stage:
"""),
    code("""
break_visits = stage_frame(results.journeys["pharmacy_break"])


def waiting(frame, stage, day):
    \"\"\"Patients waiting in a stage's queue over one day: step times (minutes), counts.\"\"\"
    v = frame[(frame["stage"] == stage) & (frame["day"] == day) & (frame["wait"] > 0)]
    times = np.concatenate([v["queue_join"], v["queue_join"] + v["wait"]])
    steps = np.concatenate([np.ones(len(v)), -np.ones(len(v))])
    order = np.lexsort((steps, times))  # at equal times, a departure before an arrival
    return np.r_[0.0, times[order]], np.r_[0.0, np.cumsum(steps[order])]


fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
for name, frame in (("baseline", visits), ("pharmacy_break", break_visits)):
    times, queue = waiting(frame, "pharmacy", day=0)
    ax.step(scenario.opening + times / 60, queue, where="post", label=name)
ax.set_xlabel("clock hour")
ax.set_ylabel("patients waiting")
ax.set_title("The pharmacy queue on the first simulated day")
ax.legend();
"""),
    code("""
left = pd.DataFrame({
    name: frame.groupby("stage", observed=True)["abandoned"].sum() / REPLICATIONS
    for name, frame in (("baseline", visits), ("pharmacy_break", break_visits))})
print("patients a day who gave up, by stage:")
left.round(2)
"""),
    md("""
## What the clinic should take from it

* Staff the stage where the worst moments are made: for this clinic, the doctors' queue,
  with the longest waits and the walk-ins who give up there. A route change (the nurses
  settling follow-ups) is the cheapest gain.
* Protect the end of the visit: a pharmacy that keeps patients waiting at the end, or
  loses them there, costs more in memory if patients remember the last minutes of the
  visit, as the colonoscopy patients did.
* Say which reading of "the end" a study uses: it changes how much each policy is worth.

With few replications the small differences are noisy; rerun with `replications=200`
(and `workers=2`) before acting on one.
"""),
    md("""
*The claims in the prose above, checked: CI runs this notebook, so it fails if a change
to the library stops supporting them.*
"""),
    code("""
walk_in_wait = minutes.loc["walk_in", "wait"]
doctor_stage, pharmacy_stage = scenario.stages["doctor"], scenario.stages["pharmacy"]
assert all(pharmacy_stage.expected_wait[s] < doctor_stage.expected_wait[s]
           for s in scenario.segments)
assert pharmacy_stage.patience_scale < 1
assert scenario.route("booked", "consultation")[0] == ["doctor", "pharmacy"]  # no triage
assert walk_in_wait.sum() == minutes["wait"].sum(axis=1).max()  # walk-ins wait the most
assert walk_in_wait["doctor"] > 0.8 * walk_in_wait.sum()  # ... nearly all for the doctor
assert minutes.loc["urgent", ("wait", "doctor")] > 0  # urgent patients still wait
assert (minutes["wait"][["triage", "pharmacy"]].max() < minutes["wait"]["doctor"].max() / 3).all()
wait_affect = mean_affect.loc["wait@doctor"]
assert wait_affect["walk_in"] > wait_affect["urgent"]  # a walk-in expects a long wait
assert left["baseline"].idxmax() == "doctor"  # patients give up at the doctors' queue
assert (last_seconds < 60).all()  # the last episode is a moment of seconds
seg = results.compare("baseline", "peak_end").set_index(["policy", "segment"])["difference"]
assert best == "fourth_doctor" and cost["fourth_doctor"] == cost.max()
assert seg["fourth_doctor"].drop("all").idxmax() == "walk_in"  # most of the gain
assert "nurse_follow_ups" in free.index
doctor_visits = {name: (results.journeys[name].to_pandas("stage_visits")["stage"] == "doctor").sum()
                 for name in ("baseline", "nurse_follow_ups")}
assert doctor_visits["nurse_follow_ups"] < doctor_visits["baseline"]  # fewer see a doctor
assert cmp.loc["second_pharmacist", "difference"] < 0.25 * cmp.loc["fourth_doctor", "difference"]
assert 0.4 < cost["second_pharmacist"] / cost["fourth_doctor"] < 0.5  # nearly half the cost
assert cmp.loc["pharmacy_break", "high"] < 0
s = swap.set_index("rule")
assert abs(s.loc["mean", "difference"]) < 1e-12 and abs(s.loc["integral", "difference"]) < 1e-9
assert peak_rule["difference"] == 0.0  # the last instant is the end: the position is irrelevant
assert window["high"] < 0  # the last minutes: the same wait is remembered worse at the pharmacy
assert s.loc["recency", "difference"] < window["difference"]
assert set(last_touchpoint) <= {"farewell", "abandonment"}
assert by_rule.loc["pharmacy_break", "ratio"] > 1  # the end of the visit weighs more
assert (by_rule.loc[["fourth_doctor", "nurse_follow_ups"], "ratio"] < 1).all()
assert left.loc["pharmacy", "pharmacy_break"] > left.loc["pharmacy", "baseline"]
waited = {name: frame.loc[frame["stage"] == "pharmacy", "wait"].sum()
          for name, frame in (("baseline", visits), ("pharmacy_break", break_visits))}
assert waited["pharmacy_break"] > 2 * waited["baseline"]  # the break: long pharmacy waits
"""),
]


NOTEBOOKS: dict[str, list[nbformat.NotebookNode]] = {
    "01_quick_start": QUICK_START,
    "02_staffing_what_if": STAFFING,
    "03_vip_windows_and_gold_card_paradox": VIP_GOLD,
    "04_designing_the_end": ENDINGS,
    "05_when_memory_rules_disagree": RULES,
    "06_loyalty_over_visits": LOYALTY,
    "08_explore": EXPLORE,
    "09_wealth_clients_and_advisors": ADVISORS,
    "10_clinic_triage_doctor_pharmacy": CLINIC,
}


def build(names: list[str] | None = None) -> list[Path]:
    """Write the notebooks (all, or those named) without outputs; return their paths."""
    written = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives no diff
        nbformat.validate(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for path in build(sys.argv[1:] or None):
        print(f"wrote {path.relative_to(HERE.parent)}")
