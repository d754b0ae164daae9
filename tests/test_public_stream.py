"""The public event stream through a morning with bookings, check-ins, notes and reasons: no
booking code, phone, note, reason, ticket token or account ever reaches it, live or in replay;
staff, signed in, get who did it and what they typed. Real server process, real websockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from auth_support import add_device, add_user, seat_clerks, sign_in
from live_server import LiveServer

WAIT = 15.0
PHONE = "13912345678"
NOTES = ("身份证110101199001011234 已核验", "联合会审 电话13800001111", "群众来电取消 13700001234",
         "群众回到咨询台 13600002222")


async def drain(ws: Any, seen: list[dict[str, Any]], until_seq: int) -> None:
    """Read messages until one with seq ≥ until_seq has arrived."""
    while not seen or seen[-1]["seq"] < until_seq:
        seen.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def the_morning(kiosk: httpx.Client, resident: httpx.Client, desk: httpx.Client,
                clerks: list[httpx.Client]) -> tuple[list[dict[str, Any]], list[str]]:
    """What happens in the hall, over HTTP: returns the bookings and the secrets it made."""
    secrets: list[str] = []
    # A resident books two slots this morning and gives one back.
    booked = []
    for slot, item in (("10:00", "elderly-card"), ("10:30", "disability-card")):
        answer = resident.post("/api/appointments", json={
            "service": item, "day": "2026-11-25", "slot": slot, "phone": PHONE,
            "name": "张三"})
        assert answer.status_code == 201, answer.text
        booked.append(answer.json())
    secrets += [b["code"] for b in booked]
    assert resident.post(f"/api/appointments/{booked[1]['code']}/cancel",
                         json={"phone_last4": PHONE[-4:]}).status_code == 200
    # The other is checked in at the kiosk; walk-ins take numbers.
    checked = kiosk.post("/api/kiosks/k1/check-in", json={"code": booked[0]["code"]})
    assert checked.status_code == 201, checked.text
    tickets = [checked.json()] + [
        kiosk.post("/api/kiosks/k1/tickets", json={"service": "elderly-card"}).json()
        for _ in range(4)]
    secrets += [t["token"] for t in tickets]
    # Window 5: the booked resident first; a note at the finish; a transfer with a note.
    c5 = clerks[0]
    assert c5.post("/api/counters/5/call-next").json()["ticket"]["id"] == tickets[0]["id"]
    c5.post("/api/counters/5/start")
    assert c5.post("/api/counters/5/finish", json={"outcome": "on_the_spot",
                                                   "note": NOTES[0]}).status_code == 200
    c5.post("/api/counters/5/call-next")
    assert c5.post("/api/counters/5/transfer",
                   json={"counter": 6, "note": NOTES[1]}).status_code == 200
    # The desk cancels one for a resident who phoned, and puts a no-show back in line.
    number = tickets[3]["number"]
    assert desk.post(f"/api/desk/tickets/{number}/cancel",
                     json={"reason": NOTES[2]}).status_code == 200
    c5.post("/api/counters/5/call-next")
    c5.post("/api/counters/5/recall")
    missed = c5.post("/api/counters/5/no-show").json()["ticket"]["number"]
    assert desk.post(f"/api/desk/tickets/{missed}/requeue",
                     json={"reason": NOTES[3]}).status_code == 200
    return booked, secrets


async def morning(server: LiveServer) -> None:
    add_user(server.db_url, "desk", "desk", name="咨询台")
    kiosk_token = add_device(server.db_url, "kiosk-k1", "kiosk", "k1")
    clerks = seat_clerks(server.db_url, server.base, 5, 6)
    kiosk = httpx.Client(base_url=server.base, timeout=15,
                         headers={"Authorization": f"Bearer {kiosk_token}"})
    resident = httpx.Client(base_url=server.base, timeout=15)
    desk = httpx.Client(base_url=server.base, timeout=15)
    sign_in(desk, "desk")
    sup = httpx.Client(base_url=server.base, timeout=15)
    sign_in(sup, "sup")
    secrets: list[str] = [*NOTES, PHONE, "139****5678", "clerk5", "clerk6", '"sup"', '"desk"',
                          "kiosk-k1"]
    public: list[dict[str, Any]] = []
    staff: list[dict[str, Any]] = []
    async with websockets.connect(server.ws) as public_ws, \
            websockets.connect(server.ws, additional_headers={"Cookie": cookie_header(sup)}) \
            as staff_ws:
        public.append(json.loads(await asyncio.wait_for(public_ws.recv(), WAIT)))
        staff.append(json.loads(await asyncio.wait_for(staff_ws.recv(), WAIT)))
        booked, more = await asyncio.to_thread(the_morning, kiosk, resident, desk, clerks)
        secrets += more
        head = (await asyncio.to_thread(sup.get, "/healthz")).json()["seq"]
        await drain(public_ws, public, head)
        await drain(staff_ws, staff, head)
    # A latecomer replays the whole morning from the start.
    replay: list[dict[str, Any]] = []
    async with websockets.connect(f"{server.ws}?since=0") as late:
        await drain(late, replay, head)

    for label, messages in (("live", public), ("replay", replay)):
        text = json.dumps(messages, ensure_ascii=False)
        for secret in secrets:
            assert secret not in text, f"{secret!r} reached the public stream ({label})"
        assert all("actor" not in m and "staff" not in m for m in messages), label
    assert {m["type"] for m in replay} >= {"appointment.booked", "appointment.cancelled",
                                           "appointment.checked_in", "ticket.transferred",
                                           "ticket.cancelled", "ticket.requeued"}
    # Staff see who did it and what they typed.
    finished = next(m for m in staff if m["type"] == "ticket.finished")
    assert finished["actor"]["id"] == "clerk5" and finished["staff"] == {"note": NOTES[0]}
    booking = next(m for m in staff if m["type"] == "appointment.booked")
    assert booking["staff"]["code"] == booked[0]["code"]
    for client in (kiosk, resident, desk, sup, *clerks):
        client.close()


def test_nothing_secret_on_the_public_stream(server: LiveServer) -> None:
    asyncio.run(morning(server))
