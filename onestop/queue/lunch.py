"""中午不关门、轮流就餐: plan who eats in which lunch slot so every item keeps its open windows.

A window is open in a slot iff a clerk who is not on break sits at it. Each clerk takes exactly
one break slot and sits at one allowed window at a time; each window holds one clerk. The plan
is found by a complete search (see `onestop.queue.lunch_search`), so the hall is told "impossible"
only when it is, with the item that cannot be covered named in Chinese and English.
Pure Python: no I/O, no web or hardware imports.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from onestop.queue.catalogue import HallConfig
from onestop.queue.lunch_search import NODE_LIMIT, Hall, LunchSearchLimit, max_staffed

__all__ = [
    "LunchInfeasible", "LunchPlan", "LunchProblem", "LunchSearchLimit", "check_plan",
    "plan_lunch", "swap", "with_breaks",
]

class LunchInfeasible(Exception):
    """No plan keeps `service` covered; message_zh / message_en say which item and why.

    `service` is "" only from check_plan, for a fault that is no one item's (a clerk seated at a
    window they may not use, a clerk without a break...)."""

    def __init__(self, service: str, message_zh: str, message_en: str) -> None:
        super().__init__(service, message_zh, message_en)
        self.service = service
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


@dataclass(frozen=True)
class LunchPlan:
    """Who eats when, and who sits where in each slot; stored as JSON for the day."""

    slots: tuple[str, ...]
    breaks: Mapping[str, int]
    seating: tuple[Mapping[int, str], ...]

    def open_windows(self, slot: int) -> frozenset[int]:
        """Windows with a clerk in this slot."""
        return frozenset(self.seating[slot])

    def closed_windows(self, slot: int, windows: Collection[int]) -> frozenset[int]:
        """Of `windows`, those nobody sits at in this slot (to show "暂停服务" there)."""
        return frozenset(windows) - self.open_windows(slot)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (window numbers become string keys)."""
        return {
            "slots": list(self.slots),
            "breaks": dict(self.breaks),
            "seating": [{str(w): c for w, c in sorted(seats.items())} for seats in self.seating],
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> LunchPlan:
        """The inverse of to_json; ValueError when the stored plan is malformed."""
        try:
            slots = tuple(str(s) for s in data["slots"])
            breaks = {str(c): int(s) for c, s in data["breaks"].items()}
            seating = tuple({int(w): str(c) for w, c in seats.items()}
                            for seats in data["seating"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a stored lunch plan: {exc!r}") from None
        if len(seating) != len(slots):
            raise ValueError("not a stored lunch plan: one seating per slot is needed")
        return LunchPlan(slots, breaks, seating)


@dataclass(frozen=True)
class LunchProblem:
    """The planner's input: windows and their items, clerks and their windows, slots, minimums.

    `names` (optional) gives items' Chinese names for messages; ids are used where missing."""

    windows: Mapping[int, frozenset[str]]
    clerks: Mapping[str, tuple[int, ...]]
    slots: tuple[str, ...]
    min_open: Mapping[str, int]
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.slots:
            raise ValueError("lunch: no lunch slots are configured ([lunch] slots)")
        if any(not s for s in self.slots):
            raise ValueError("lunch: a lunch slot is empty")
        if len(set(self.slots)) != len(self.slots):
            raise ValueError("lunch: a lunch slot is listed twice")
        for clerk, allowed in self.clerks.items():
            if not allowed:
                raise ValueError(f"lunch: clerk {clerk!r} has no window they may sit at "
                                 "(give [[clerks]] counters)")
            unknown = sorted(set(allowed) - set(self.windows))
            if unknown:
                raise ValueError(f"lunch: clerk {clerk!r} may sit at unknown window(s) {unknown}")
            if len(set(allowed)) != len(allowed):
                raise ValueError(f"lunch: clerk {clerk!r} lists a window twice: {list(allowed)}")
        for item, minimum in self.min_open.items():
            if minimum < 0:
                raise ValueError(f"lunch: item {item!r} has a negative minimum ({minimum})")
        missing = sorted(set().union(*self.windows.values()) - set(self.min_open))
        if missing:
            raise ValueError(f"lunch: no minimum of open windows for item(s) {missing}")

    @staticmethod
    def from_config(config: HallConfig, clerks: Collection[str] | None = None) -> LunchProblem:
        """The hall's problem; `clerks` limits it to those at work today (None: everyone)."""
        known = {c.id: c for c in config.clerks}
        if clerks is not None:
            unknown = sorted(set(clerks) - set(known))
            if unknown:
                raise ValueError(f"lunch: unknown clerk(s) {unknown}; known: {sorted(known)}")
        chosen = [c for c in config.clerks if clerks is None or c.id in clerks]
        lunch = config.lunch
        return LunchProblem(
            windows={c.number: frozenset(config.counter_services(c.number))
                     for c in config.counters},
            clerks={c.id: tuple(c.counters) for c in chosen},
            slots=tuple(lunch.slots),
            min_open={s.id: lunch.min_open_by_service.get(s.id, lunch.min_open)
                      for s in config.services},
            names={s.id: s.name for s in config.services},
        )


def plan_lunch(problem: LunchProblem, *, node_limit: int = NODE_LIMIT) -> LunchPlan:
    """A covering plan, balanced and with clerks at preferred windows where possible.

    Raises LunchInfeasible (naming an item) only when no plan exists, LunchSearchLimit if the
    search exceeded `node_limit` steps."""
    return _plan(problem, {}, node_limit)


def with_breaks(problem: LunchProblem, breaks: Mapping[str, int], *,
                node_limit: int = NODE_LIMIT) -> LunchPlan:
    """A supervisor's edit: these clerks eat in these slots; seat everyone else around them.

    Clerks missing from `breaks` get a slot from the planner."""
    _check_breaks(problem, breaks)
    return _plan(problem, dict(breaks), node_limit)


def swap(problem: LunchProblem, plan: LunchPlan, a: str, b: str) -> LunchPlan:
    """Clerks a and b trade break slots; everyone is re-seated. LunchInfeasible if that uncovers
    an item."""
    for clerk in (a, b):
        if clerk not in plan.breaks:
            raise ValueError(f"lunch: clerk {clerk!r} is not in the plan")
    breaks = dict(plan.breaks)
    breaks[a], breaks[b] = plan.breaks[b], plan.breaks[a]
    return with_breaks(problem, breaks)


def check_plan(problem: LunchProblem, plan: LunchPlan) -> list[LunchInfeasible]:
    """Every way the plan breaks the rules or leaves an item short; [] when it is sound."""
    faults: list[LunchInfeasible] = []

    def fault(service: str, zh: str, en: str) -> None:
        faults.append(LunchInfeasible(service, zh, en))

    if tuple(plan.slots) != tuple(problem.slots) or len(plan.seating) != len(problem.slots):
        fault("", "午餐计划的时段与配置不一致", "the plan's lunch slots differ from the hall's")
        return faults
    for clerk in problem.clerks:
        if plan.breaks.get(clerk) not in range(len(problem.slots)):
            fault("", f"工作人员{clerk}没有安排午餐时段", f"clerk {clerk!r} has no lunch slot")
    for clerk in set(plan.breaks) - set(problem.clerks):
        fault("", f"工作人员{clerk}不在当天名单中", f"clerk {clerk!r} is not at work today")
    for s, seats in enumerate(plan.seating):
        label_zh, label_en = _slot_label(problem, s)
        seen: set[str] = set()
        for window, clerk in seats.items():
            if clerk in seen:
                fault("", f"{label_zh}{clerk}同时坐两个窗口", f"{label_en}: {clerk!r} sits twice")
            seen.add(clerk)
            if window not in problem.clerks.get(clerk, ()):
                fault("", f"{label_zh}{clerk}不能坐{window}号窗口",
                      f"{label_en}: {clerk!r} may not sit at window {window}")
            if plan.breaks.get(clerk) == s:
                fault("", f"{label_zh}{clerk}正在就餐却被安排在{window}号窗口",
                      f"{label_en}: {clerk!r} is at lunch but seated at window {window}")
        for item, need in sorted(problem.min_open.items()):
            have = sum(1 for w in seats if item in problem.windows.get(w, frozenset()))
            if have < need:
                fault(item, f"{label_zh}事项“{_name(problem, item)}”只有{have}个窗口开放，"
                            f"少于至少{need}个",
                      f"{label_en}: service {item!r} has {have} open window(s); it needs {need}")
    return faults


# --- the search and its messages ------------------------------------------------------------


@dataclass
class _Compiled:
    """A LunchProblem as indices for lunch_search, and the way back to ids."""

    problem: LunchProblem
    clerk_ids: list[str]
    window_numbers: list[int]
    items: list[str]
    hall: Hall


def _compile(problem: LunchProblem, items: list[str], node_limit: int,
             clerk_ids: list[str] | None = None) -> _Compiled:
    """Index the problem for the items given (all others are ignored)."""
    clerk_ids = list(problem.clerks) if clerk_ids is None else clerk_ids
    numbers = sorted(problem.windows)
    index = {n: i for i, n in enumerate(numbers)}
    serve = [sum(1 << index[n] for n in numbers if item in problem.windows[n]) for item in items]
    hall = Hall([[index[n] for n in problem.clerks[c]] for c in clerk_ids], len(numbers), serve,
                [problem.min_open[i] for i in items], len(problem.slots), node_limit)
    return _Compiled(problem, clerk_ids, numbers, items, hall)


def _plan(problem: LunchProblem, pinned: dict[str, int], node_limit: int) -> LunchPlan:
    """Plan with some breaks fixed; raise LunchInfeasible naming an item when impossible."""
    items = sorted((i for i, n in problem.min_open.items() if n > 0),
                   key=lambda i: (_static_slack(problem, i), i))
    for item in items:                       # an item that cannot be covered even on its own
        _check_alone(problem, item, pinned, node_limit)
    compiled = _compile(problem, items, node_limit)
    index = {c: i for i, c in enumerate(compiled.clerk_ids)}
    slot_of = compiled.hall.breaks({index[c]: s for c, s in pinned.items()})
    if slot_of is None:
        raise _together(compiled, pinned)
    return _build(compiled, slot_of)


def _check_alone(problem: LunchProblem, item: str, pinned: dict[str, int],
                 node_limit: int) -> None:
    """Raise LunchInfeasible if `item` by itself cannot keep its minimum through lunch."""
    need = problem.min_open[item]
    windows = [n for n, items in problem.windows.items() if item in items]
    staff = [c for c, allowed in problem.clerks.items() if set(allowed) & set(windows)]
    zh_name = _name(problem, item)
    if not windows:
        raise LunchInfeasible(item, f"事项“{zh_name}”没有窗口可办，午餐轮换时无法保持至少{need}个窗口开放",
                              f"service {item!r} is served by no window; "
                              f"lunch rotation cannot keep {need} open")
    if len(windows) < need:
        raise LunchInfeasible(item, f"事项“{zh_name}”只有{len(windows)}个窗口可办，"
                                    f"午餐轮换时无法保持至少{need}个窗口开放",
                              f"service {item!r} has only {len(windows)} window(s); "
                              f"lunch rotation cannot keep {need} open")
    sub = LunchProblem({n: frozenset({item}) for n in windows},
                       {c: tuple(n for n in problem.clerks[c] if n in windows) for c in staff},
                       problem.slots, {item: need})
    compiled = _compile(sub, [item], node_limit)
    index = {c: i for i, c in enumerate(staff)}
    sub_pinned = {index[c]: s for c, s in pinned.items() if c in index}
    if compiled.hall.breaks(sub_pinned) is not None:
        return
    if pinned and len(sub_pinned) == len(staff):          # every break given: name the slot
        for s in range(len(problem.slots)):
            present = sum(1 << i for i, c in enumerate(staff) if pinned[c] != s)
            have = max_staffed(present, compiled.hall.allowed_mask, compiled.hall.serve[0])
            if have < need:
                label_zh, label_en = _slot_label(problem, s)
                raise LunchInfeasible(
                    item, f"按此安排，{label_zh}事项“{zh_name}”只有{have}个窗口有人坐，"
                          f"无法保持至少{need}个窗口开放",
                    f"with these breaks, in {label_en} service {item!r} can have only {have} "
                    f"window(s) staffed; it needs {need} open")
    note_zh = "（按指定的就餐时段）" if pinned else ""
    note_en = " with the breaks as given" if pinned else ""
    raise LunchInfeasible(
        item, f"事项“{zh_name}”只有{len(windows)}个窗口可办、{len(staff)}名工作人员可在这些窗口"
              f"就座，午餐轮换时{note_zh}无法保持至少{need}个窗口开放",
        f"service {item!r} has {len(windows)} window(s) that only {len(staff)} clerk(s) "
        f"can staff; lunch rotation cannot keep {need} open{note_en}")


def _together(compiled: _Compiled, pinned: dict[str, int]) -> LunchInfeasible:
    """Every item is coverable alone but not all at once: blame the one the search failed on most."""
    problem = compiled.problem
    hall = compiled.hall
    worst = max(range(len(compiled.items)),
                key=lambda i: (hall.blame[i], -_static_slack(problem, compiled.items[i])))
    item = compiled.items[worst]
    need = problem.min_open[item]
    note_zh = "按指定的就餐时段，" if pinned else ""
    note_en = " with the breaks as given" if pinned else ""
    return LunchInfeasible(
        item, f"{note_zh}事项“{_name(problem, item)}”与其他事项一起时，午餐轮换无法保持至少{need}个"
              "窗口开放：工作人员不够同时覆盖所有事项",
        f"service {item!r} cannot keep {need} window(s) open together with the others during "
        f"the lunch rotation{note_en}: not enough clerks to cover every service at once")


def _build(compiled: _Compiled, slot_of: list[int]) -> LunchPlan:
    """Turn break slots into a plan, seating each slot's clerks."""
    hall = compiled.hall
    seating = []
    for s in range(hall.n_slots):
        present = sum(1 << c for c, slot in enumerate(slot_of) if slot != s)
        seats = hall.seat(present)
        seating.append({compiled.window_numbers[w]: compiled.clerk_ids[c]
                        for w, c in sorted(seats.items())})
    breaks = {c: slot_of[i] for i, c in enumerate(compiled.clerk_ids)}
    return LunchPlan(tuple(compiled.problem.slots), breaks, tuple(seating))


def _check_breaks(problem: LunchProblem, breaks: Mapping[str, int]) -> None:
    """ValueError for a supervisor's edit naming an unknown clerk or slot."""
    for clerk, slot in breaks.items():
        if clerk not in problem.clerks:
            raise ValueError(f"lunch: unknown clerk {clerk!r}")
        if not isinstance(slot, int) or slot not in range(len(problem.slots)):
            raise ValueError(f"lunch: clerk {clerk!r}: no lunch slot {slot!r} "
                             f"(0..{len(problem.slots) - 1})")


def _static_slack(problem: LunchProblem, item: str) -> int:
    """Windows the whole staff can open for the item at once, minus its minimum."""
    numbers = sorted(problem.windows)
    index = {n: i for i, n in enumerate(numbers)}
    masks = [sum(1 << index[n] for n in allowed) for allowed in problem.clerks.values()]
    windows = sum(1 << index[n] for n in numbers if item in problem.windows[n])
    everyone = (1 << len(masks)) - 1
    return max_staffed(everyone, masks, windows) - problem.min_open.get(item, 0)


def _slot_label(problem: LunchProblem, slot: int) -> tuple[str, str]:
    """'第2个午餐时段（12:10-12:50）', 'lunch slot 2 (12:10-12:50)'."""
    span = problem.slots[slot]
    return f"第{slot + 1}个午餐时段（{span}）", f"lunch slot {slot + 1} ({span})"


def _name(problem: LunchProblem, item: str) -> str:
    """The item's Chinese name when known, else its id."""
    return problem.names.get(item, item)
