"""Two clerks press "call next" on two windows at the same moment: two different tickets.

Real server process, real sign-in, two HTTP clients released together by a barrier, repeated so
that the presses really overlap.
"""

from __future__ import annotations

import threading

import httpx
from auth_support import add_user, sign_in
from live_server import LiveServer

ROUNDS = 30


def test_simultaneous_call_next_never_shares_a_ticket(server: LiveServer, db_url: str) -> None:
    add_user(db_url, "clerk1", "clerk", counters=[1])
    add_user(db_url, "clerk2", "clerk", counters=[2])
    with httpx.Client(base_url=server.base, timeout=30) as sup:
        sign_in(sup, "sup")
        for _ in range(ROUNDS * 2):
            assert sup.post("/api/tickets", json={"service": "gas-payment"}).status_code == 201
    clerks = []
    for name in ("clerk1", "clerk2"):
        client = httpx.Client(base_url=server.base, timeout=30)
        sign_in(client, name)  # each is bound to their single window at sign-in
        clerks.append(client)
    barrier = threading.Barrier(2)
    called: list[list[str]] = [[], []]
    errors: list[str] = []

    def press(i: int) -> None:
        window = i + 1
        for _ in range(ROUNDS):
            barrier.wait(timeout=30)
            response = clerks[i].post(f"/api/counters/{window}/call-next")
            if response.status_code != 200:
                errors.append(f"window {window}: {response.status_code} {response.text}")
                return
            called[i].append(response.json()["ticket"]["number"])
            done = clerks[i].post(f"/api/counters/{window}/start")
            if done.status_code == 200:
                done = clerks[i].post(f"/api/counters/{window}/finish",
                                      json={"outcome": "consultation"})
            if done.status_code != 200:
                errors.append(f"window {window}: {done.status_code} {done.text}")
                return

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    for client in clerks:
        client.close()
    assert not errors, errors
    assert len(called[0]) == len(called[1]) == ROUNDS
    assert not set(called[0]) & set(called[1]), "two windows got the same ticket"
    assert len(set(called[0]) | set(called[1])) == 2 * ROUNDS
