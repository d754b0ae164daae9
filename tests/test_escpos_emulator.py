"""The ESC/POS emulator against byte vectors written by hand from the ESC/POS command reference.

No encoder is used here on purpose: if the emulator only understood our encoder, both could be
wrong the same way. Each vector names the command it spells out.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from onestop.drivers.escpos.emulator import (
    EscPosDecoder,
    EscPosEmulator,
    PrintedLine,
    PrintedQr,
    PrintedTicket,
    PrinterCondition,
    status_reply,
)
from onestop.drivers.escpos.render import render_ticket_png

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

INIT = bytes.fromhex("1b 40")  # ESC @
CHINESE_ON = bytes.fromhex("1c 26")  # FS &
CHINESE_OFF = bytes.fromhex("1c 2e")  # FS .
CUT = bytes.fromhex("1d 56 42 00")  # GS V 66 0: feed to the cutter and cut
LF = b"\n"
# "老年人优待证办理" in GB18030 (GB2312 code points, two bytes each), written out by hand.
ELDERLY_CARD = bytes.fromhex("c0cf c4ea c8cb d3c5 b4fd d6a4 b0ec c0ed")
PAYLOAD = b"https://hall.example/t/abc123"
QR = (
    bytes.fromhex("1d 28 6b 04 00 31 41 32 00")  # GS ( k fn 165: model 2
    + bytes.fromhex("1d 28 6b 03 00 31 43 06")  # GS ( k fn 167: module 6 dots
    + bytes.fromhex("1d 28 6b 03 00 31 45 31")  # GS ( k fn 169: error correction M
    + bytes.fromhex("1d 28 6b 20 00 31 50 30") + PAYLOAD  # fn 180: store, pL = 29 + 3 = 0x20
    + bytes.fromhex("1d 28 6b 03 00 31 51 30")  # GS ( k fn 181: print the stored symbol
)
TICKET = (
    INIT + CHINESE_ON
    + bytes.fromhex("1b 61 01") + bytes.fromhex("1b 45 01") + ELDERLY_CARD + LF  # centred, bold
    + bytes.fromhex("1b 45 00") + bytes.fromhex("1d 21 11") + b"A023" + LF  # GS ! 0x11
    + bytes.fromhex("1d 21 00") + bytes.fromhex("1b 61 00")
    + bytes.fromhex("b4b0 bfda a3ba") + b"3" + bytes.fromhex("bac5") + LF  # "窗口：3号"
    + bytes.fromhex("1b 2d 01") + b"Window 3" + LF + bytes.fromhex("1b 2d 00")  # ESC - 1
    + bytes.fromhex("1b 61 01") + QR + LF
    + CHINESE_OFF + bytes.fromhex("1b 64 03") + CUT  # ESC d 3, cut
)


def decode(stream: bytes) -> tuple[list[PrintedTicket], EscPosDecoder]:
    decoder = EscPosDecoder()
    return decoder.feed(stream), decoder


def test_chinese_mode_gb18030_decodes_back() -> None:
    assert "老年人优待证办理".encode("gb18030") == ELDERLY_CARD  # the hand-written bytes are right
    tickets, _ = decode(INIT + CHINESE_ON + ELDERLY_CARD + LF + CHINESE_OFF + CUT)
    assert [line.text for line in tickets[0].lines] == ["老年人优待证办理"]
    assert tickets[0].warnings == []


def test_four_byte_gb18030_and_ascii_in_chinese_mode() -> None:
    # 㐀 (U+3400) is a four-byte GB18030 code: 81 39 EE 39.
    tickets, _ = decode(CHINESE_ON + bytes.fromhex("81 39 ee 39") + b"A1" + LF + CUT)
    assert tickets[0].lines[0].text == "\u3400A1"


def test_high_bytes_outside_chinese_mode_warn() -> None:
    tickets, _ = decode(ELDERLY_CARD + LF + CUT)
    assert tickets[0].lines[0].text != "老年人优待证办理"
    assert "outside Chinese mode" in tickets[0].warnings[0]
    assert tickets[0].warnings[0].startswith("offset 0:")


def test_full_ticket_modes_and_qr() -> None:
    tickets, decoder = decode(TICKET)
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.cut and ticket.raw == TICKET and ticket.warnings == []
    assert ticket.lines[:4] == [
        PrintedLine("老年人优待证办理", bold=True, align="center"),
        PrintedLine("A023", width=2, height=2, align="center"),
        PrintedLine("窗口：3号"),
        PrintedLine("Window 3", underline=True),
    ]
    assert ticket.qr_codes == [PAYLOAD.decode()]
    assert PrintedQr(PAYLOAD.decode(), 6, "M", "center") in ticket.blocks
    assert len(ticket.lines) == 4  # blank feeds (LF after the QR, ESC d 3) are only in blocks
    assert [b.text for b in ticket.blocks[5:] if isinstance(b, PrintedLine)] == ["", "", "", ""]
    assert decoder.pending_status_requests() == []


def test_esc_bang_double_size_and_emphasis() -> None:
    # ESC ! 0x38: emphasized + double height + double width (ANK characters).
    tickets, _ = decode(bytes.fromhex("1b 21 38") + b"B007" + LF + CUT)
    assert tickets[0].lines == [PrintedLine("B007", bold=True, width=2, height=2)]


@pytest.mark.parametrize("cut", [
    bytes.fromhex("1d 56 00"), bytes.fromhex("1d 56 30"), bytes.fromhex("1d 56 01"),
    bytes.fromhex("1d 56 31"), bytes.fromhex("1d 56 41 10"), bytes.fromhex("1d 56 42 00"),
    bytes.fromhex("1b 69"), bytes.fromhex("1b 6d"),
])
def test_every_cut_variant_ends_a_ticket(cut: bytes) -> None:
    tickets, _ = decode(b"one" + LF + cut + b"two" + LF + cut)
    assert [(t.lines[0].text, t.cut) for t in tickets] == [("one", True), ("two", True)]
    assert tickets[0].raw == b"one\n" + cut


def test_cut_and_align_mid_line_are_ignored_as_the_reference_says() -> None:
    tickets, decoder = decode(b"no LF" + bytes.fromhex("1b 61 01") + CUT)
    assert tickets == []
    ticket = decoder.finish()
    assert ticket is not None and not ticket.cut
    assert any("ESC a ignored" in w for w in ticket.warnings)
    assert any("GS V ignored" in w for w in ticket.warnings)
    assert any("never printed" in w for w in ticket.warnings)


def test_unknown_and_unrendered_commands_are_warned_with_offsets() -> None:
    raster = bytes.fromhex("1d 76 30 00 01 00 02 00") + b"\xff\x00"  # GS v 0, 1 byte x 2 rows
    tickets, _ = decode(b"ab" + LF + bytes.fromhex("1b 01") + raster + b"x" + LF + CUT)
    warnings = tickets[0].warnings
    assert warnings[0] == "offset 3: unknown command ESC 0x01 ignored"
    assert warnings[1].startswith("offset 5: raster image GS v 0 (8x2 dots)")
    assert [line.text for line in tickets[0].lines] == ["ab", "x"]


def test_esc_at_clears_unprinted_text_and_modes() -> None:
    tickets, _ = decode(bytes.fromhex("1d 21 11") + b"lost" + INIT + b"kept" + LF + CUT)
    assert tickets[0].lines == [PrintedLine("kept")]
    assert tickets[0].warnings == ["offset 7: ESC @ cleared 4 unprinted characters"]


def test_mixed_modes_in_one_line_warn() -> None:
    tickets, _ = decode(bytes.fromhex("1b 45 01") + b"No." + bytes.fromhex("1b 45 00") + b"7"
                        + LF + CUT)
    assert tickets[0].lines[0] == PrintedLine("No.7", bold=True)
    assert "print mode changes within a line" in tickets[0].warnings[0]


def test_dle_eot_answered_before_buffered_data_completes() -> None:
    decoder = EscPosDecoder()
    # A raster image header promising 2 bytes of data, then only one: the command is incomplete.
    decoder.feed(bytes.fromhex("1d 76 30 00 01 00 02 00 ff"))
    decoder.feed(bytes.fromhex("10 04 01"))  # DLE EOT 1: real-time, answered at once
    assert decoder.pending_status_requests() == [("DLE EOT", 1)]
    assert decoder.feed(LF + CUT) != []  # the 10 was the image's last byte; all prints after


def test_dle_eot_inside_qr_data_is_answered_and_reported() -> None:
    data = b"a\x10\x04\x04b"
    store = bytes.fromhex("1d 28 6b 08 00 31 50 30") + data
    tickets, decoder = decode(store + bytes.fromhex("1d 28 6b 03 00 31 51 30") + LF + CUT)
    assert decoder.pending_status_requests() == [("DLE EOT", 4)]
    assert tickets[0].qr_codes == [data.decode()]
    assert "DLE EOT 4 inside the data of GS (" in tickets[0].warnings[0]


def test_status_requests_in_stream_order() -> None:
    _, decoder = decode(bytes.fromhex("10 04 02 1d 72 01 10 04 04 1d 72 32 1b 76"))
    assert decoder.pending_status_requests() == [
        ("DLE EOT", 2), ("GS r", 1), ("DLE EOT", 4), ("GS r", 2), ("ESC v", 0)]
    assert decoder.pending_status_requests() == []


def feed_in_pieces(stream: bytes, cuts: list[int]) -> tuple[list[PrintedTicket], list[tuple[str, int]]]:
    decoder = EscPosDecoder()
    tickets: list[PrintedTicket] = []
    start = 0
    for end in [*sorted(set(cuts)), len(stream)]:
        tickets += decoder.feed(stream[start:end])
        start = end
    return tickets, decoder.pending_status_requests()


# Both tickets, a status request in the middle, and a warning, to compare everything.
SPLIT_STREAM = TICKET + bytes.fromhex("10 04 01") + b"abc" + bytes.fromhex("1b 01") + LF + CUT


def test_one_byte_at_a_time_equals_whole() -> None:
    whole = feed_in_pieces(SPLIT_STREAM, [])
    assert len(whole[0]) == 2 and whole[1] == [("DLE EOT", 1)]
    assert feed_in_pieces(SPLIT_STREAM, list(range(1, len(SPLIT_STREAM)))) == whole


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=1, max_value=len(SPLIT_STREAM) - 1), max_size=40))
def test_random_splits_equal_whole(cuts: list[int]) -> None:
    assert feed_in_pieces(SPLIT_STREAM, cuts) == feed_in_pieces(SPLIT_STREAM, [])


@pytest.mark.parametrize(("condition", "expected"), [
    # DLE EOT 1, 2, 3, 4 answers; bits 1 and 4 are fixed on in every one.
    (PrinterCondition(), b"\x12\x12\x12\x12"),
    (PrinterCondition(paper="near_end"), b"\x12\x12\x12\x1e"),  # 4: bits 2,3 near end
    (PrinterCondition(paper="out"), b"\x1a\x32\x12\x7e"),  # offline, paper-end stop, 5,6 end
    (PrinterCondition(cover_open=True), b"\x1a\x16\x12\x12"),  # offline, 2: bit 2 cover open
    (PrinterCondition(online=False), b"\x1a\x12\x12\x12"),
])
def test_dle_eot_status_bytes(condition: PrinterCondition, expected: bytes) -> None:
    assert b"".join(status_reply(("DLE EOT", n), condition) for n in (1, 2, 3, 4)) == expected


def test_gs_r_status_bytes() -> None:
    assert status_reply(("GS r", 1), PrinterCondition()) == b"\x00"
    assert status_reply(("GS r", 1), PrinterCondition(paper="near_end")) == b"\x03"
    assert status_reply(("GS r", 2), PrinterCondition()) == b"\x00"
    with pytest.raises(ValueError):
        PrinterCondition(paper="empty")  # type: ignore[arg-type]


# ------------------------------------------------------------------------- over TCP
@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EscPosEmulator]:
    emu = EscPosEmulator(png_dir=tmp_path / "png")
    emu.start()
    yield emu
    emu.stop()


def connect(emu: EscPosEmulator) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=5)
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed before the status arrived"
        data += chunk
    return data


def test_tcp_prints_and_answers_status(emulator: EscPosEmulator) -> None:
    assert emulator.port != 0
    with connect(emulator) as sock:
        sock.sendall(bytes.fromhex("10 04 01"))
        assert recv_exactly(sock, 1) == b"\x12"
        sock.sendall(TICKET)
        [ticket] = emulator.wait_for_tickets(1, timeout=5)
    assert ticket.lines[0].text == "老年人优待证办理" and ticket.qr_codes == [PAYLOAD.decode()]
    assert sorted(p.name for p in (emulator.png_dir or Path()).iterdir()) == ["ticket-0001.png"]


def test_tcp_one_connection_many_tickets_then_new_connections(emulator: EscPosEmulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(b"1" + LF + CUT + b"2" + LF + CUT)
        emulator.wait_for_tickets(2, timeout=5)
    for n in (3, 4):
        with connect(emulator) as sock:
            sock.sendall(str(n).encode() + LF + CUT)
            emulator.wait_for_tickets(n, timeout=5)
    assert [t.lines[0].text for t in emulator.tickets] == ["1", "2", "3", "4"]


def test_tcp_uncut_ticket_recorded_when_connection_closes(emulator: EscPosEmulator) -> None:
    with connect(emulator) as sock:
        sock.sendall(b"forgot the cut" + LF)
    [ticket] = emulator.wait_for_tickets(1, timeout=5)
    assert not ticket.cut and ticket.lines[0].text == "forgot the cut"


def test_tcp_paper_out_discards_but_answers(emulator: EscPosEmulator) -> None:
    emulator.set_paper("out")
    with connect(emulator) as sock:
        sock.sendall(TICKET + bytes.fromhex("1d 72 01") + bytes.fromhex("10 04 04"))
        # Only DLE EOT is answered: GS r is not executed while offline for paper end.
        assert recv_exactly(sock, 1) == b"\x7e"
        # The reply came after the ticket's bytes were processed, so this is not a race.
        assert emulator.tickets == []
        [discarded] = emulator.discarded_tickets
        assert discarded.lines[0].text == "老年人优待证办理" and "discarded" in discarded.warnings[-1]
        emulator.set_paper("ok")
        sock.sendall(bytes.fromhex("10 04 04") + TICKET)
        assert recv_exactly(sock, 1) == b"\x12"
        [ticket] = emulator.wait_for_tickets(1, timeout=5)
    assert ticket.lines[0].text == "老年人优待证办理"
    assert "GS r 1 not answered: the printer is offline" in ticket.warnings[0]


def test_tcp_paper_near_end_still_prints(emulator: EscPosEmulator) -> None:
    emulator.set_paper("near_end")
    with connect(emulator) as sock:
        sock.sendall(b"low paper" + LF + CUT + bytes.fromhex("10 04 04 1d 72 01"))
        assert recv_exactly(sock, 2) == b"\x1e\x03"
    assert emulator.wait_for_tickets(1, timeout=5)[0].lines[0].text == "low paper"


def test_tcp_cover_open_and_offline_stop_printing(emulator: EscPosEmulator) -> None:
    with connect(emulator) as sock:
        emulator.set_cover_open(True)
        sock.sendall(b"x" + LF + CUT + bytes.fromhex("10 04 02"))
        assert recv_exactly(sock, 1) == b"\x16"
        emulator.set_cover_open(False)
        emulator.set_online(False)
        sock.sendall(b"y" + LF + CUT + bytes.fromhex("10 04 01"))
        assert recv_exactly(sock, 1) == b"\x1a"
        assert emulator.tickets == [] and len(emulator.discarded_tickets) == 2


# ------------------------------------------------------------------------- over a pty
def test_serial_pty_prints_and_answers(tmp_path: Path) -> None:
    master, slave = os.openpty()
    emu = EscPosEmulator()
    try:
        emu.serve_serial(os.ttyname(slave))  # the emulator's end is open before we write
        os.write(master, TICKET + bytes.fromhex("10 04 01"))
        ready, _, _ = select.select([master], [], [], 5)
        assert ready and os.read(master, 1) == b"\x12"
        [ticket] = emu.wait_for_tickets(1, timeout=5)
        assert ticket.qr_codes == [PAYLOAD.decode()]
    finally:
        emu.stop()
        os.close(master)
        os.close(slave)


# ------------------------------------------------------------------------- PNG
@pytest.mark.parametrize(("paper_mm", "width"), [(58, 384), (80, 576)])
def test_png_has_the_paper_width(tmp_path: Path, paper_mm: int, width: int) -> None:
    [ticket], _ = decode(TICKET)
    path = tmp_path / f"{paper_mm}.png"
    render_ticket_png(ticket, path, paper_mm)
    with Image.open(path) as image:
        assert image.width == width and image.height > 300
        assert image.getextrema() == (0, 255)  # something black was drawn
    if paper_mm == 80:  # one sample for a person to look at (test-artifacts/ is git-ignored)
        ARTIFACTS.mkdir(exist_ok=True)
        render_ticket_png(ticket, ARTIFACTS / "escpos-sample-80mm.png", 80)


def test_drivers_do_not_import_queue_kiosk_or_signage() -> None:
    code = ("import sys, onestop.drivers.escpos.emulator, onestop.drivers.escpos.render;"
            "print(sorted(m for m in sys.modules if m.startswith(('onestop.queue',"
            "'onestop.kiosk', 'onestop.signage'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
