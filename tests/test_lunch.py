"""The lunch rotation planner: plans that cover, refusals that are honest and name the item."""

from __future__ import annotations

import itertools
import json
from functools import cache

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from onestop.queue.catalogue import HallConfig
from onestop.queue.lunch import (
    LunchInfeasible,
    LunchPlan,
    LunchProblem,
    LunchSearchLimit,
    check_plan,
    plan_lunch,
    swap,
    with_breaks,
)

SPANS = ("11:30-12:10", "12:10-12:50", "12:50-13:30", "13:30-14:00")
ITEMS = ("birth-registration", "residence-permit", "gas-payment", "elderly-card", "consultation")


# --- an independent referee -----------------------------------------------------------------


def slot_coverable(problem: LunchProblem, present: frozenset[str]) -> bool:
    """Try every seating of the present clerks (each at one allowed window or none)."""
    order = sorted(present)

    def covers(opened: frozenset[int]) -> bool:
        return all(sum(item in problem.windows[w] for w in opened) >= need
                   for item, need in problem.min_open.items())

    def seat(i: int, used: frozenset[int]) -> bool:
        if i == len(order):
            return covers(used)
        return seat(i + 1, used) or any(seat(i + 1, used | {w})
                                        for w in problem.clerks[order[i]] if w not in used)

    return seat(0, frozenset())


def breaks_work(problem: LunchProblem, breaks: dict[str, int]) -> bool:
    """Whether these break slots leave every slot coverable (by brute force)."""
    return all(slot_coverable(problem, frozenset(c for c in problem.clerks if breaks[c] != s))
               for s in range(len(problem.slots)))


def brute_force_feasible(problem: LunchProblem) -> bool:
    """Enumerate every break assignment and every seating: is there any plan at all?"""
    clerks = sorted(problem.clerks)
    coverable = cache(lambda present: slot_coverable(problem, present))
    for slots in itertools.product(range(len(problem.slots)), repeat=len(clerks)):
        if all(coverable(frozenset(c for c, b in zip(clerks, slots, strict=True) if b != s))
               for s in range(len(problem.slots))):
            return True
    return False


def only(problem: LunchProblem, item: str) -> LunchProblem:
    """The same hall caring about one item only."""
    return LunchProblem(problem.windows, problem.clerks, problem.slots,
                        {i: (n if i == item else 0) for i, n in problem.min_open.items()})


def assert_sound(problem: LunchProblem, plan: LunchPlan) -> None:
    """Check a plan against the rules directly, not only through check_plan."""
    assert check_plan(problem, plan) == []
    assert plan.slots == problem.slots
    assert set(plan.breaks) == set(problem.clerks)
    assert all(0 <= s < len(problem.slots) for s in plan.breaks.values())
    assert len(plan.seating) == len(problem.slots)
    for s, seats in enumerate(plan.seating):
        assert len(set(seats.values())) == len(seats), "a clerk sits twice in one slot"
        for window, clerk in seats.items():
            assert window in problem.clerks[clerk]
            assert plan.breaks[clerk] != s, "a clerk at lunch is seated"
        for item, need in problem.min_open.items():
            assert sum(item in problem.windows[w] for w in plan.open_windows(s)) >= need
    assert LunchPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


# --- random halls ---------------------------------------------------------------------------


@st.composite
def halls(draw: st.DrawFn, max_windows: int, max_clerks: int, max_slots: int) -> LunchProblem:
    """A random hall: windows serving random items, clerks with random ordered permissions."""
    items = ITEMS[:draw(st.integers(1, len(ITEMS) if max_windows > 4 else 3))]
    numbers = draw(st.lists(st.integers(1, 30), min_size=1, max_size=max_windows, unique=True))
    windows = {n: frozenset(draw(st.sets(st.sampled_from(items), min_size=1, max_size=2)))
               for n in numbers}
    clerks = {}
    # mostly enough clerks and slots for a rotation to be possible, sometimes not
    for i in range(draw(st.sampled_from((0, 1, *range(max_clerks // 2, max_clerks + 1))))):
        allowed = draw(st.permutations(numbers))
        clerks[f"c{i}"] = tuple(allowed[:draw(st.integers(1, len(allowed)))])
    min_open = {item: draw(st.sampled_from((0, 1, 1, 1, 2))) for item in items}
    slots = draw(st.sampled_from((1, *range(2, max_slots + 1), max_slots)))
    return LunchProblem(windows, clerks, SPANS[:slots], min_open)


@st.composite
def tight_halls(draw: st.DrawFn) -> LunchProblem:
    """Small halls near the edge: each window serves one item, clerks barely suffice, so items
    coverable one by one often cannot be covered together."""
    items = ITEMS[:draw(st.integers(2, 3))]
    numbers = list(range(1, draw(st.integers(len(items), 4)) + 1))
    windows = {n: frozenset({items[(n - 1) % len(items)]}) for n in numbers}
    clerks = {f"c{i}": tuple(draw(st.permutations(numbers))[:draw(st.integers(1, 2))])
              for i in range(draw(st.integers(3, 5)))}
    return LunchProblem(windows, clerks, SPANS[:draw(st.integers(2, 3))],
                        {item: 1 for item in items})


@settings(max_examples=150, deadline=None)
@given(halls(max_windows=10, max_clerks=12, max_slots=4))
def test_a_plan_for_a_random_hall_is_sound(problem: LunchProblem) -> None:
    try:
        plan = plan_lunch(problem)
    except LunchInfeasible as refusal:
        event("refused")
        assert problem.min_open.get(refusal.service, 0) > 0
        assert refusal.message_zh and refusal.message_en
        return
    event("planned")
    assert_sound(problem, plan)


@settings(max_examples=150, deadline=None)
@given(st.one_of(halls(max_windows=4, max_clerks=5, max_slots=3), tight_halls()))
def test_the_planner_refuses_exactly_when_brute_force_finds_nothing(problem: LunchProblem) -> None:
    feasible = brute_force_feasible(problem)
    try:
        plan = plan_lunch(problem)
    except LunchInfeasible as refusal:
        assert not feasible, "refused a hall that has a plan"
        assert problem.min_open.get(refusal.service, 0) > 0
        alone = brute_force_feasible(only(problem, refusal.service))
        event("refused, together" if alone else "refused, alone")
        # "together with the others" only when the item on its own could be covered
        assert alone == ("together with the others" in refusal.message_en)
        return
    event("planned")
    assert feasible
    assert_sound(problem, plan)


@settings(max_examples=100, deadline=None)
@given(halls(max_windows=4, max_clerks=5, max_slots=3), st.data())
def test_a_swap_is_refused_exactly_when_it_uncovers_an_item(problem: LunchProblem,
                                                          data: st.DataObject) -> None:
    try:
        plan = plan_lunch(problem)
    except LunchInfeasible:
        return
    if len(problem.clerks) < 2:
        return
    a, b = data.draw(st.permutations(sorted(problem.clerks)))[:2]
    swapped = dict(plan.breaks)
    swapped[a], swapped[b] = plan.breaks[b], plan.breaks[a]
    try:
        after = swap(problem, plan, a, b)
    except LunchInfeasible as refusal:
        assert not breaks_work(problem, swapped)
        assert problem.min_open.get(refusal.service, 0) > 0
        return
    assert breaks_work(problem, swapped)
    assert dict(after.breaks) == swapped
    assert_sound(problem, after)


# --- the sample hall ------------------------------------------------------------------------


def test_the_sample_hall_gets_a_sound_balanced_plan(config: HallConfig) -> None:
    problem = LunchProblem.from_config(config)
    assert len(problem.clerks) == 14 and len(problem.windows) == 12
    assert len(problem.min_open) == 20
    plan = plan_lunch(problem)
    assert_sound(problem, plan)
    sizes = sorted(list(plan.breaks.values()).count(s) for s in range(3))
    assert sizes == [4, 5, 5]
    # nobody sits idle: each slot seats every clerk at work who has a free allowed window
    for s in range(3):
        seated = set(plan.seating[s].values())
        for clerk, allowed in problem.clerks.items():
            if plan.breaks[clerk] != s and clerk not in seated:
                assert set(allowed) <= plan.open_windows(s)


def test_closed_windows_are_the_unstaffed_ones(config: HallConfig) -> None:
    plan = plan_lunch(LunchProblem.from_config(config))
    numbers = [c.number for c in config.counters]
    for s in range(3):
        closed = plan.closed_windows(s, numbers)
        assert closed | plan.open_windows(s) == set(numbers)
        assert not closed & plan.open_windows(s)


def test_only_the_clerks_at_work_today_are_planned(config: HallConfig) -> None:
    today = [c.id for c in config.clerks if c.id not in ("he-yun", "guo-tao")]
    problem = LunchProblem.from_config(config, today)
    plan = plan_lunch(problem)
    assert set(plan.breaks) == set(today)
    assert_sound(problem, plan)


def test_a_minimum_above_the_windows_is_refused_naming_the_item(config: HallConfig) -> None:
    data = config.model_dump()
    data["lunch"]["min_open_by_service"] = {"birth-registration": 5}
    problem = LunchProblem.from_config(HallConfig.model_validate(data))
    with pytest.raises(LunchInfeasible) as refusal:
        plan_lunch(problem)
    assert refusal.value.service == "birth-registration"
    assert "生育登记服务" in refusal.value.message_zh
    assert "只有4个窗口可办" in refusal.value.message_zh
    assert "'birth-registration' has only 4 window(s)" in refusal.value.message_en


def test_an_item_with_one_window_and_one_clerk_is_refused() -> None:
    problem = LunchProblem(
        windows={1: frozenset({"birth-registration", "gas-payment"}), 2: frozenset({"gas-payment"})},
        clerks={"a": (1, 2), "b": (2,)}, slots=SPANS[:2],
        min_open={"birth-registration": 1, "gas-payment": 1}, names={"birth-registration": "出生登记"})
    with pytest.raises(LunchInfeasible) as refusal:
        plan_lunch(problem)
    assert refusal.value.service == "birth-registration"
    assert refusal.value.message_zh.startswith("事项“出生登记”只有1个窗口可办、1名工作人员")
    assert "无法保持至少1个窗口开放" in refusal.value.message_zh
    assert "birth-registration" in str(refusal.value)


def test_items_coverable_alone_but_not_together_say_so() -> None:
    problem = LunchProblem(windows={1: frozenset({"x"}), 2: frozenset({"y"})},
                           clerks={"a": (1, 2), "b": (2, 1)}, slots=SPANS[:2],
                           min_open={"x": 1, "y": 1})
    with pytest.raises(LunchInfeasible) as refusal:
        plan_lunch(problem)
    assert refusal.value.service in ("x", "y")
    assert "together with the others" in refusal.value.message_en
    assert "与其他事项一起" in refusal.value.message_zh
    # two more clerks make it work (one more is not enough: some slot would keep one clerk)
    assert not brute_force_feasible(LunchProblem(problem.windows, {**problem.clerks, "c": (1,)},
                                                 problem.slots, problem.min_open))
    bigger = LunchProblem(problem.windows, {**problem.clerks, "c": (1,), "d": (2,)}, problem.slots,
                          problem.min_open)
    assert_sound(bigger, plan_lunch(bigger))


def test_an_item_no_window_serves_is_refused() -> None:
    problem = LunchProblem({1: frozenset({"x"})}, {"a": (1,), "b": (1,)}, SPANS[:2],
                           {"x": 1, "ghost": 1})
    with pytest.raises(LunchInfeasible) as refusal:
        plan_lunch(problem)
    assert refusal.value.service == "ghost"
    assert "没有窗口可办" in refusal.value.message_zh


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"clerks": {"a": ()}}, "no window"),
    ({"clerks": {"a": (9,)}}, "unknown window"),
    ({"clerks": {"a": (1, 1)}}, "twice"),
    ({"slots": ()}, "no lunch slots"),
    ({"min_open": {}}, "no minimum"),
    ({"min_open": {"x": -1}}, "negative"),
])
def test_a_malformed_problem_is_a_value_error(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {"windows": {1: frozenset({"x"})}, "clerks": {"a": (1,)},
                               "slots": SPANS[:2], "min_open": {"x": 1}}
    with pytest.raises(ValueError, match=words):
        LunchProblem(**{**args, **kwargs})  # type: ignore[arg-type]


def test_an_unknown_clerk_today_is_a_value_error(config: HallConfig) -> None:
    with pytest.raises(ValueError, match="nobody"):
        LunchProblem.from_config(config, ["wang-li", "nobody"])


def test_the_search_is_bounded(config: HallConfig) -> None:
    with pytest.raises(LunchSearchLimit, match="gave up after 5"):
        plan_lunch(LunchProblem.from_config(config), node_limit=5)


# --- a supervisor's edits -------------------------------------------------------------------


def two_item_hall() -> LunchProblem:
    """Window 1 serves a (clerks x, y), window 2 serves b (clerks z, w, v)."""
    return LunchProblem({1: frozenset({"a"}), 2: frozenset({"b"})},
                        {"x": (1,), "y": (1,), "z": (2,), "w": (2,), "v": (2,)}, SPANS[:2],
                        {"a": 1, "b": 1})


def test_given_breaks_are_kept_and_the_others_seated() -> None:
    problem = two_item_hall()
    plan = with_breaks(problem, {"x": 0, "y": 1, "z": 0, "w": 1, "v": 1})
    assert dict(plan.breaks) == {"x": 0, "y": 1, "z": 0, "w": 1, "v": 1}
    assert_sound(problem, plan)
    partial = with_breaks(problem, {"x": 1})          # the planner places the rest
    assert partial.breaks["x"] == 1 and partial.breaks["y"] == 0
    assert_sound(problem, partial)


def test_given_breaks_that_uncover_an_item_are_refused_naming_it() -> None:
    with pytest.raises(LunchInfeasible) as refusal:
        with_breaks(two_item_hall(), {"x": 0, "y": 0, "z": 0, "w": 1, "v": 1})
    assert refusal.value.service == "a"
    assert "第1个午餐时段（11:30-12:10）" in refusal.value.message_zh
    assert "lunch slot 1" in refusal.value.message_en


def test_a_swap_trades_slots_or_is_refused_naming_the_item() -> None:
    problem = two_item_hall()
    plan = with_breaks(problem, {"x": 0, "y": 1, "z": 0, "w": 1, "v": 1})
    traded = swap(problem, plan, "x", "y")
    assert (traded.breaks["x"], traded.breaks["y"]) == (1, 0)
    assert_sound(problem, traded)
    with pytest.raises(LunchInfeasible) as refusal:
        swap(problem, plan, "x", "w")             # x and y would both eat in slot 2
    assert refusal.value.service == "a"
    assert "第2个午餐时段" in refusal.value.message_zh
    with pytest.raises(ValueError, match="nobody"):
        swap(problem, plan, "x", "nobody")


def test_swaps_in_the_sample_hall(config: HallConfig) -> None:
    problem = LunchProblem.from_config(config)
    plan = plan_lunch(problem)
    done = 0
    for a, b in itertools.combinations(sorted(plan.breaks), 2):
        if plan.breaks[a] == plan.breaks[b]:
            continue
        try:
            after = swap(problem, plan, a, b)
        except LunchInfeasible as refusal:
            assert problem.min_open[refusal.service] >= 1
            continue
        assert (after.breaks[a], after.breaks[b]) == (plan.breaks[b], plan.breaks[a])
        assert check_plan(problem, after) == []
        done += 1
    assert done > 0


def test_check_plan_reports_each_fault() -> None:
    problem = two_item_hall()
    plan = with_breaks(problem, {"x": 0, "y": 1, "z": 0, "w": 1, "v": 1})
    bad = LunchPlan(plan.slots, {**plan.breaks, "x": 1},
                    ({2: "w"}, {1: "x", 2: "z"}))
    faults = check_plan(problem, bad)
    services = [f.service for f in faults]
    assert "a" in services                       # nobody at window 1 in slot 1
    assert any("at lunch" in f.message_en for f in faults)      # x eats in slot 2 but sits there
    wrong_window = LunchPlan(plan.slots, plan.breaks, ({1: "y", 2: "w", 3: "v"}, plan.seating[1]))
    assert any("may not sit" in f.message_en for f in check_plan(problem, wrong_window))


def test_a_malformed_stored_plan_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a stored lunch plan"):
        LunchPlan.from_json({"slots": ["11:30-12:10"], "breaks": {}})
