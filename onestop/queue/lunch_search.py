"""The search behind the lunch rotation: break slots by backtracking, seats by matching.

Kept apart from `onestop.queue.lunch` (the public API and its messages) so the combinatorics can
be read on their own. Everything works on indices: clerks are bits of an int ("who is at work in
this slot"), windows and items are list positions.

Two levels:
- `cover(available)`: can these clerks sit so that every item keeps its minimum of open windows?
  A depth-first search over windows to open (always for the item with the least slack), where
  the windows chosen so far must stay matchable to distinct clerks (augmenting paths); memoised
  per set of clerks, since the break search asks about the same sets again and again.
- `breaks(...)`: each clerk's break slot, most-constrained clerk first, with forward checking
  (every unplaced clerk must still have a slot where leaving does not make that slot uncoverable)
  and slot symmetry broken (slots with nobody eating yet are interchangeable, so only the first
  of them is tried). Searched first with perfectly balanced slots, then with looser caps.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

NODE_LIMIT = 200_000
_FORBIDDEN = 10**15


class LunchSearchLimit(RuntimeError):
    """The node budget ran out: the hall is far larger or odder than a service hall should be."""


class Hall:
    """A lunch problem compiled to indices, with the search state (memo, budget, blame)."""

    def __init__(self, allowed: Sequence[Sequence[int]], n_windows: int,
                 serve: Sequence[int], need: Sequence[int], n_slots: int,
                 node_limit: int = NODE_LIMIT) -> None:
        self.n_clerks = len(allowed)
        self.n_windows = n_windows
        self.allowed = [list(a) for a in allowed]          # clerk -> window indices, preferred first
        self.allowed_mask = [_mask(a) for a in allowed]
        self.window_clerks = [[c for c in range(self.n_clerks) if w in allowed[c]]
                              for w in range(n_windows)]
        self.serve = list(serve)                            # item -> bitmask of windows serving it
        self.need = list(need)                              # item -> minimum open windows
        self.n_slots = n_slots
        self.everyone = (1 << self.n_clerks) - 1
        self.node_limit = node_limit
        self.nodes = 0
        self.blame = [0] * len(need)                        # item -> times a search failed on it
        self._memo: dict[int, dict[int, int] | None] = {}
        self._group_cache: list[tuple[int, int, int]] | None = None

    def _tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.node_limit:
            raise LunchSearchLimit(
                f"lunch planning gave up after {self.node_limit} search steps; the hall has "
                f"{self.n_clerks} clerks, {self.n_windows} windows and {self.n_slots} slots")

    # --- one slot -------------------------------------------------------------------------

    def cover(self, available: int) -> dict[int, int] | None:
        """Window -> clerk for windows that give every item its minimum, or None if impossible."""
        if available not in self._memo:
            self._memo[available] = self._search_cover(available, self.need,
                                                       available.bit_count())
        return self._memo[available]

    def min_open_needed(self, items: Sequence[int]) -> int:
        """The fewest windows (so clerks present) that can give these items their minimums."""
        need = [n if i in items else 0 for i, n in enumerate(self.need)]
        for size in range(self.n_windows + 1):
            if self._search_cover(self.everyone, need, size) is not None:
                return size
        return self.n_clerks + 1                       # not even with everyone present

    def _search_cover(self, available: int, needs: Sequence[int],
                      limit: int) -> dict[int, int] | None:
        """Depth-first search for at most `limit` windows covering `needs`, matched to clerks."""
        reach = 0
        for c in _bits(available):
            reach |= self.allowed_mask[c]
        seat: dict[int, int] = {}      # window -> clerk
        sits: dict[int, int] = {}      # clerk -> window

        def augment(w: int, seen: set[int]) -> bool:
            for c in self.window_clerks[w]:
                if not available >> c & 1 or c in seen:
                    continue
                seen.add(c)
                if c not in sits or augment(sits[c], seen):
                    sits[c] = w
                    seat[w] = c
                    return True
            return False

        def dfs(chosen: int, excluded: int) -> bool:
            self._tick()
            best, best_slack, most_short = -1, 0, 0
            for i, need in enumerate(needs):
                short = need - (chosen & self.serve[i]).bit_count()
                if short <= 0:
                    continue
                slack = (self.serve[i] & reach & ~chosen & ~excluded).bit_count() - short
                if slack < 0:
                    self.blame[i] += 1
                    return False
                most_short = max(most_short, short)
                if best < 0 or slack < best_slack:
                    best, best_slack = i, slack
            if best < 0:
                return True
            if chosen.bit_count() + most_short > limit:
                self.blame[best] += 1
                return False
            for w in self._candidates(best, chosen, excluded, reach, needs):
                saved = (dict(seat), dict(sits))
                if augment(w, set()):
                    if dfs(chosen | 1 << w, excluded):
                        return True
                    seat.clear()
                    seat.update(saved[0])
                    sits.clear()
                    sits.update(saved[1])
                excluded |= 1 << w
            self.blame[best] += 1
            return False

        return dict(seat) if dfs(0, 0) else None

    def _candidates(self, item: int, chosen: int, excluded: int, reach: int,
                    needs: Sequence[int]) -> list[int]:
        """Windows that could open for `item`, those helping the most short items first."""
        free = self.serve[item] & reach & ~chosen & ~excluded
        short_items = [i for i, need in enumerate(needs)
                       if need > (chosen & self.serve[i]).bit_count()]
        return sorted(_bits(free),
                      key=lambda w: -sum(self.serve[i] >> w & 1 for i in short_items))

    # --- all slots ------------------------------------------------------------------------

    def breaks(self, pinned: dict[int, int]) -> list[int] | None:
        """Each clerk's break slot (pinned ones kept), most balanced first; None if impossible.

        One unrestricted search decides feasibility (its value order already fills the emptiest
        slot first); only when its plan is uneven are tighter caps on a slot's eaters tried."""
        found = self._breaks(pinned, self.n_clerks)
        if found is None:
            return None
        base = -(-self.n_clerks // self.n_slots)
        floor = max([0, *(list(pinned.values()).count(s) for s in range(self.n_slots))])
        widest = max(found.count(s) for s in range(self.n_slots))
        for cap in range(max(base, floor), widest):
            try:
                better = self._breaks(pinned, cap)
            except LunchSearchLimit:
                return found                  # balance is a wish; the plan found stands
            if better is not None:
                return better
        return found

    def _breaks(self, pinned: dict[int, int], cap: int) -> list[int] | None:
        slot_of = [-1] * self.n_clerks
        eating = [0] * self.n_slots       # slot -> bitmask of clerks eating then
        for c, s in pinned.items():
            slot_of[c] = s
            eating[s] |= 1 << c
        if any(self.cover(self.everyone & ~e) is None for e in eating):
            return None
        order = sorted(range(self.n_clerks), key=lambda c: len(self.allowed[c]))
        groups = self._groups()
        mine = [[g for g in groups if g[0] >> c & 1] for c in range(self.n_clerks)]

        def options(c: int) -> list[int]:
            counts = [e.bit_count() for e in eating]
            first_empty = counts.index(0) if 0 in counts else -1
            found = []
            for s in range(self.n_slots):
                if counts[s] == 0 and s != first_empty:
                    continue
                if any((eating[s] & staff).bit_count() >= most for staff, most, _ in mine[c]):
                    continue
                if self.cover(self.everyone & ~(eating[s] | 1 << c)) is None:
                    continue
                if counts[s] >= cap:
                    continue
                found.append(s)
            return sorted(found, key=lambda s: (counts[s], s))

        def counting_fails(free_mask: int) -> bool:
            """Some group has more clerks left to place than its slots can still let go."""
            for staff, most, item in groups:
                room = sum(max(0, most - (e & staff).bit_count()) for e in eating)
                if room < (free_mask & staff).bit_count():
                    if item >= 0:
                        self.blame[item] += 1
                    return True
            return False

        def place() -> bool:
            self._tick()
            free = [c for c in order if slot_of[c] < 0]
            if not free:
                return True
            room = sum(cap - e.bit_count() for e in eating)
            if room < len(free):
                return False
            if counting_fails(_mask(free)):
                return False
            chosen, chosen_slots = -1, list[int]()
            for c in free:
                slots = options(c)
                if not slots:
                    return False
                if chosen < 0 or len(slots) < len(chosen_slots):
                    chosen, chosen_slots = c, slots
            for s in chosen_slots:
                slot_of[chosen] = s
                eating[s] |= 1 << chosen
                if place():
                    return True
                eating[s] &= ~(1 << chosen)
                slot_of[chosen] = -1
            return False

        return list(slot_of) if place() else None

    def _groups(self) -> list[tuple[int, int, int]]:
        """(clerks, most of them who may eat in one slot, item to blame or -1): every slot must
        keep enough of an item's staff present, and of the staff of a pair of items that need
        more windows together than either alone, and of the whole staff."""
        if self._group_cache is None:
            wanted = [i for i, need in enumerate(self.need) if need > 0]
            groups = [self._group([i], self.need[i], i) for i in wanted]
            for i, j in itertools.combinations(wanted, 2):
                if (self.serve[i] & self.serve[j]).bit_count() < max(self.need[i], self.need[j]):
                    together = self.min_open_needed([i, j])
                    if together > max(self.need[i], self.need[j]):
                        worse = i if self.need[i] >= self.need[j] else j
                        groups.append(self._group([i, j], together, worse))
            if len(wanted) > 1:
                groups.append(self._group(wanted, self.min_open_needed(wanted), -1))
            tightest: dict[int, tuple[int, int, int]] = {}
            for group in groups:            # per set of clerks, only the tightest bound counts
                if group[0] not in tightest or group[1] < tightest[group[0]][1]:
                    tightest[group[0]] = group
            self._group_cache = sorted(tightest.values(), key=lambda g: g[1])
        return self._group_cache

    def _group(self, items: list[int], present: int, blame: int) -> tuple[int, int, int]:
        """The clerks able to serve these items, and how many of them may eat at once."""
        windows = _mask(w for i in items for w in _bits(self.serve[i]))
        staff = _mask(c for c in range(self.n_clerks) if self.allowed_mask[c] & windows)
        return staff, staff.bit_count() - present, blame

    # --- seating --------------------------------------------------------------------------

    def seat(self, available: int) -> dict[int, int]:
        """Window -> clerk for one slot: covering, as many clerks seated as possible, preferred
        windows first. The slot must be coverable (see `cover`)."""
        forced = self.cover(available)
        if forced is None:
            raise ValueError("seat() called for a slot that cannot be covered")
        for must in ((), tuple(forced)):
            seating = self._assign(available, frozenset(must))
            opened = _mask(seating)
            if all((opened & self.serve[i]).bit_count() >= need
                   for i, need in enumerate(self.need)):
                return seating
        raise AssertionError("a coverable slot's forced seating does not cover")  # pragma: no cover

    def _assign(self, available: int, must: frozenset[int]) -> dict[int, int]:
        """Min-cost assignment of present clerks to windows: each seat earns a bonus (so as
        many sit as can), each window in `must` a bigger one, a window's preference rank costs."""
        clerks = list(_bits(available))
        if not clerks:
            return {}
        k, m = len(clerks), self.n_windows
        seat_bonus = k * (m + 1) + 1
        must_bonus = (k + 1) * seat_bonus + 1
        cost = []
        for c in clerks:
            row = [_FORBIDDEN] * m + [0] * k             # k dummy columns: "does not sit"
            for rank, w in enumerate(self.allowed[c]):
                row[w] = rank - seat_bonus - (must_bonus if w in must else 0)
            cost.append(row)
        seating = {}
        for i, col in enumerate(min_cost_assignment(cost)):
            if col < m:
                seating[col] = clerks[i]
        return seating


def min_cost_assignment(cost: Sequence[Sequence[int]]) -> list[int]:
    """Row -> column minimising the total (Hungarian method with potentials); rows <= columns."""
    rows, cols = len(cost), len(cost[0])
    u = [0] * (rows + 1)
    v = [0] * (cols + 1)
    owner = [0] * (cols + 1)        # column -> row (1-based; 0 = free); column 0 is a sentinel
    via = [0] * (cols + 1)
    for r in range(1, rows + 1):
        owner[0] = r
        col = 0
        best = [_FORBIDDEN * 4] * (cols + 1)
        done = [False] * (cols + 1)
        while owner[col]:
            done[col] = True
            row = owner[col]
            delta, nxt = _FORBIDDEN * 4, 0
            for j in range(1, cols + 1):
                if done[j]:
                    continue
                reduced = cost[row - 1][j - 1] - u[row] - v[j]
                if reduced < best[j]:
                    best[j], via[j] = reduced, col
                if best[j] < delta:
                    delta, nxt = best[j], j
            for j in range(cols + 1):
                if done[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    best[j] -= delta
            col = nxt
        while col:
            prev = via[col]
            owner[col] = owner[prev]
            col = prev
    result = [0] * rows
    for j in range(1, cols + 1):
        if owner[j]:
            result[owner[j] - 1] = j - 1
    return result


def max_staffed(available: int, allowed_mask: Sequence[int], windows: int) -> int:
    """How many of `windows` (a bitmask) the available clerks can staff at once (max matching)."""
    owner: dict[int, int] = {}

    def augment(c: int, seen: set[int]) -> bool:
        for w in _bits(allowed_mask[c] & windows):
            if w in seen:
                continue
            seen.add(w)
            if w not in owner or augment(owner[w], seen):
                owner[w] = c
                return True
        return False

    return sum(augment(c, set()) for c in _bits(available))


def _bits(mask: int) -> list[int]:
    """Positions of the set bits, lowest first."""
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def _mask(positions: Iterable[int]) -> int:
    """A bitmask of the given positions."""
    result = 0
    for p in positions:
        result |= 1 << p
    return result
