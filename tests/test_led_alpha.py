"""The Alpha Sign Communications Protocol (9708-8061 rev. F) encoder and emulator.

Golden vectors are spelled out byte by byte from the spec's rules; the decoder tests feed
hand-written packets, so the emulator is checked against the spec and not only against our
encoder. Round trips then tie the two together.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.drivers.fonts import cjk_font_file
from onestop.drivers.led.alpha import AlphaEncoder, checksum, frame
from onestop.drivers.led.alpha_emulator import (
    AlphaBusMonitor,
    AlphaDecoder,
    pixel_rows,
    render_png,
)
from onestop.drivers.led.content import Colour, Effect, Geometry, ScreenContent, TextLine
from onestop.drivers.led.render import render_content

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "led"
WAKE = b"\x00" * 5  # section 5.1: five NULs so the sign locks onto the baud rate
SIGN_COLOURS = [Colour.RED, Colour.GREEN, Colour.YELLOW]  # what red/green LEDs can show


def need_cjk_font() -> None:
    """Chinese tests fail under CI without a CJK font, and skip locally."""
    if cjk_font_file() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no CJK font installed (fonts-noto-cjk); Chinese pictures untestable")
        pytest.skip("no CJK font installed")


def packet(head: bytes, command: bytes) -> bytes:
    """A packet written from section 5.1 by hand, with its own checksum arithmetic."""
    body = b"\x02" + command + b"\x03"
    return WAKE + b"\x01" + head + body + f"{sum(body) & 0xFFFF:04X}".encode() + b"\x04"


# --- (1) golden vectors ------------------------------------------------------------------

def test_spec_appendix_f_checksum_example() -> None:
    # Appendix F (rev. F p. 60), as quoted in public audits of the spec:
    #   ...<STX>"AAHELLO"<ETX>"01FB"<EOT> -- the sum of STX, "AAHELLO" and ETX is 01FBH.
    assert checksum(b"\x02AAHELLO\x03") == b"01FB"
    decoder = AlphaDecoder()
    screens = decoder.feed(WAKE + b"\x01Z00\x02AAHELLO\x0301FB\x04")
    assert decoder.errors == []
    assert [s.content for s in screens] == [ScreenContent((TextLine("HELLO"),))]
    assert screens[0].address == 0


def test_one_line_call_is_byte_exact() -> None:
    expected = (
        b"\x00\x00\x00\x00\x00"  # wake-up NULs (5.1)
        b"\x01"                  # SOH
        b"Z"                     # type code "Z": all sign types
        b"01"                    # sign address 01, two ASCII hex digits
        b"\x02"                  # STX
        b"A"                     # command "A": Write TEXT file
        b"A"                     # file label "A": the default TEXT file, needs no memory config
        b"\x1b0b"                # ESC, display position "0" (30H) fill, mode "b" hold
        b"\x1c1"                 # 1CH select colour, "1" red
        b"A012 Window 3"         # the message
        b"\x03"                  # ETX: a checksum follows
        b"0540"                  # 2+65+65+27+48+98+28+49 + 959 (text) + 3 = 1344 = 0540H
        b"\x04"                  # EOT
    )
    assert AlphaEncoder().encode(1, ScreenContent.of("A012 Window 3")) == expected


def test_two_lines_use_top_and_bottom_positions() -> None:
    content = ScreenContent((TextLine("A012", Colour.GREEN),
                             TextLine("Welcome", Colour.YELLOW, Effect.SCROLL)))
    data = AlphaEncoder().encode(0x2A, content)
    assert data[:9] == WAKE + b"\x01Z2A"  # address 42 = "2A"
    text = b"AA" + b'\x1b"b' + b"\x1c2" + b"A012" + b"\x1b&a" + b"\x1c3" + b"Welcome"
    #            ESC top hold  green               ESC bottom rotate  amber
    assert data[9:] == b"\x02" + text + b"\x03" + checksum(b"\x02" + text + b"\x03") + b"\x04"


def test_chinese_line_configures_memory_then_writes_and_calls_a_picture() -> None:
    need_cjk_font()
    data = AlphaEncoder().encode(0, ScreenContent.of("请到3号窗口"))
    memory = packet(b"Z00", b"E$"            # Write SPECIAL FUNCTION, Set Memory Configuration
                    b"AAU0100FF00"           # TEXT "A", unlocked, 256 bytes, always on (FF)
                    b"PDU1F802000")          # DOTS "P", unlocked, 31 x 128, tri-colour
    assert data.startswith(memory)
    picture_head = WAKE + b"\x01Z00\x02IP1F80"  # Write SMALL DOTS "P": height 1FH, width 80H
    assert data[len(memory):].startswith(picture_head)
    assert data.endswith(packet(b"Z00", b"AA\x1b0b\x1c1\x14P"))  # 14H calls picture "P"


def test_decoder_reads_a_hand_written_picture() -> None:
    decoder = AlphaDecoder(Geometry(width=4, height=2))
    rows = b"1230\r0008\r"  # red green amber off / off off off yellow, rows ended by CR
    memory = b"E$AAU0100FF00QDU02042000"  # TEXT "A" and a 2 x 4 tri-colour DOTS "Q"
    screens = decoder.feed(packet(b"Z05", memory) + packet(b"Z05", b"IQ0204" + rows)
                           + packet(b"Z05", b"AA\x1b0b\x14Q"))
    assert decoder.errors == []
    red, green, yellow, off = (255, 0, 0), (0, 255, 0), (255, 255, 0), (0, 0, 0)
    assert screens[0].bitmap == ((red, green, yellow, off), (off, off, off, yellow))


def test_decoder_refuses_files_the_memory_configuration_lacks() -> None:
    # "A message file cannot be written until a Memory Configuration is written first, unless
    # the file is a Priority TEXT file or the default TEXT file A." (Table 15 notes)
    decoder = AlphaDecoder()
    assert decoder.feed(packet(b"Z00", b"IQ0101" + b"1\r")) == []
    assert decoder.feed(packet(b"Z00", b"ABnot configured")) == []
    assert len(decoder.feed(packet(b"Z00", b"A0priority"))) == 1
    decoder.feed(packet(b"Z00", b"E$QDU01012000"))  # a new table: TEXT "A" is gone
    assert decoder.feed(packet(b"Z00", b"AAgone")) == []
    assert len(decoder.errors) == 3


# --- (2) checksum -------------------------------------------------------------------------

def test_checksum_is_a_16_bit_sum_in_upper_case_hex() -> None:
    assert checksum(b"") == b"0000"
    assert checksum(b"\x02\x03") == b"0005"
    assert checksum(b"\xff" * 300) == b"2AD4"  # 76500 = 12AD4H, kept to 16 bits
    assert checksum(bytes([0xAB])) == b"00AB"


def test_frame_wraps_any_command() -> None:
    assert frame("Z", 0, b"E,") == WAKE + b"\x01Z00\x02E,\x03" + checksum(b"\x02E,\x03") + b"\x04"


def test_address_out_of_range_is_refused() -> None:
    for address in (-1, 256):
        with pytest.raises(ValueError, match=r"0\.\.255"):
            AlphaEncoder().encode(address, ScreenContent.of("x"))


# --- (3) round trips ----------------------------------------------------------------------

ascii_lines = st.builds(TextLine, st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                          max_size=40),
                        st.sampled_from(SIGN_COLOURS), st.sampled_from(list(Effect)))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=150, deadline=None)
@given(st.lists(ascii_lines, min_size=1, max_size=4), st.integers(0, 255),
       st.lists(st.integers(0, 10_000), max_size=8))
def test_ascii_round_trip(lines: list[TextLine], address: int, cuts: list[int]) -> None:
    content = ScreenContent(tuple(lines))
    decoder = AlphaDecoder()
    screens = [s for part in chunked(AlphaEncoder().encode(address, content), cuts)
               for s in decoder.feed(part)]
    assert decoder.errors == []
    assert [(s.address, s.content, s.bitmap) for s in screens] == [(address, content, None)]


@settings(max_examples=15, deadline=None)
@given(st.text(st.sampled_from("请到号窗口办理业务叫号123ABC"), min_size=1, max_size=8)
       .filter(lambda t: any(ord(c) > 126 for c in t)),
       st.sampled_from(SIGN_COLOURS), st.integers(1, 2), st.integers(0, 255),
       st.lists(st.integers(0, 10_000), max_size=5))
def test_chinese_round_trip(text: str, colour: Colour, count: int, address: int,
                            cuts: list[int]) -> None:
    need_cjk_font()
    geometry = Geometry(128, 32)
    line = TextLine(text, colour)
    content = ScreenContent((TextLine("A1", Colour.GREEN),) * (count - 1) + (line,))
    decoder = AlphaDecoder(geometry)
    screens = [s for part in chunked(AlphaEncoder(geometry).encode(address, content), cuts)
               for s in decoder.feed(part)]
    assert decoder.errors == []
    (screen,) = screens
    assert screen.content is not None and screen.content.lines[-1] == TextLine("", colour)
    band = geometry.height // count
    size = Geometry(128, min(band, 31))  # SMALL DOTS PICTUREs are at most 31 rows high
    expected = pixel_rows(render_content(ScreenContent((line,)), size))
    assert screen.bitmap is not None
    assert screen.bitmap[band * (count - 1):band * (count - 1) + size.height] == expected


def test_colours_the_sign_lacks_fall_back() -> None:
    decoder = AlphaDecoder()
    content = ScreenContent.of(TextLine("b", Colour.BLUE), TextLine("w", Colour.WHITE))
    (screen,) = decoder.feed(AlphaEncoder().encode(3, content))
    assert screen.content is not None
    assert [x.colour for x in screen.content.lines] == [Colour.GREEN, Colour.YELLOW]


# --- (4) corruption and resync ------------------------------------------------------------

def test_corrupted_byte_is_a_checksum_error_and_the_next_frame_still_decodes() -> None:
    encoder = AlphaEncoder()
    first = bytearray(encoder.encode(1, ScreenContent.of("A012 Window 3")))
    first[first.index(b"Window")] ^= 0x20  # "W" -> "w" on the wire
    second = encoder.encode(2, ScreenContent.of("A013 Window 4"))
    decoder = AlphaDecoder()
    screens = decoder.feed(b"\x7fnoise" + bytes(first) + b"\xff" + second)
    assert [s.address for s in screens] == [2]
    assert any("checksum mismatch" in e for e in decoder.errors)
    assert any("outside a packet" in e for e in decoder.errors)


def test_truncated_packet_is_dropped_at_the_next_soh() -> None:
    whole = AlphaEncoder().encode(9, ScreenContent.of("next"))
    decoder = AlphaDecoder()
    screens = decoder.feed(whole[:20] + whole)
    assert [s.address for s in screens] == [9]
    assert any("cut short" in e for e in decoder.errors)


# --- (5) pictures for people, and the serial monitor ---------------------------------------

def test_png_of_decoded_screens() -> None:
    need_cjk_font()
    geometry = Geometry(128, 32)
    for name, text in (("alpha_ascii.png", "A012 Window 3"), ("alpha_chinese.png", "请到3号窗口")):
        decoder = AlphaDecoder(geometry)
        (screen,) = decoder.feed(AlphaEncoder(geometry).encode(1, ScreenContent.of(text)))
        path = render_png(screen, geometry, ARTIFACTS / name)
        assert path.stat().st_size > 1000
    assert screen.bitmap is not None and any((255, 0, 0) in row for row in screen.bitmap)


def test_monitor_keeps_latest_screen_per_address() -> None:
    master, slave = os.openpty()
    monitor = AlphaBusMonitor(os.ttyname(slave), bytesize=8, parity="N")  # 7E1 fails on ptys
    monitor.start()
    try:
        encoder = AlphaEncoder()
        os.write(master, encoder.encode(1, ScreenContent.of("one")))
        os.write(master, encoder.encode(2, ScreenContent.of("two")))
        os.write(master, encoder.encode(1, ScreenContent.of("uno")))
        assert monitor.wait_for(1, text="uno") is not None
        assert monitor.wait_for(2, text="two") is not None
        assert set(monitor.latest()) == {1, 2}
    finally:
        monitor.stop()
        os.close(master)
        os.close(slave)
