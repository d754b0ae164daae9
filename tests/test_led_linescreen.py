"""The line protocol: the document's worked example byte-exact, encoder ↔ decoder round trips,
resynchronisation after noise and corruption, and a PNG of a decoded screen to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from onestop.drivers.led.content import Colour, Effect, Geometry, ScreenContent, TextLine
from onestop.drivers.led.linescreen import LineScreenEncoder, crc16_modbus
from onestop.drivers.led.linescreen_emulator import LineScreenDecoder, render_png

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "led"
DOC = ROOT / "docs" / "led-line-protocol.md"
EXAMPLE = ScreenContent((TextLine("A012", Colour.RED), TextLine("请到3号窗口", Colour.GREEN)))


def doc_hex_blocks() -> list[bytes]:
    """The hex frames written in the worked-example section of the protocol document."""
    section = DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    blocks = re.findall(r"```\n([0-9a-f ]+)\n```", section)
    return [bytes.fromhex(block) for block in blocks]


def test_doc_worked_example_is_what_encoder_sends_and_decoder_reads() -> None:
    example, clear_all = doc_hex_blocks()
    assert LineScreenEncoder().encode(3, EXAMPLE) == example
    decoder = LineScreenDecoder()
    [screen] = decoder.feed(example)
    assert (screen.address, screen.content, screen.raw) == (3, EXAMPLE, example)
    assert LineScreenEncoder().encode(0, ScreenContent(())) == clear_all
    [cleared] = decoder.feed(clear_all)
    assert (cleared.address, cleared.content) == (0, ScreenContent(()))
    assert decoder.errors == []


def test_crc_check_value_from_the_doc() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37


@pytest.mark.parametrize("address", [-1, 255, 1000, True, "3", 2.0])
def test_bad_address_is_a_clear_error(address: object) -> None:
    with pytest.raises(ValueError, match=r"address must be an integer 1\.\.254"):
        LineScreenEncoder().encode(address, EXAMPLE)  # type: ignore[arg-type]


def test_characters_outside_the_encoding_are_replaced_visibly() -> None:
    encoder = LineScreenEncoder(encoding="gb2312")
    frame = encoder.encode(7, ScreenContent.of("A1 😀 喆\x07"))  # 喆 is GBK but not GB2312
    [screen] = LineScreenDecoder().feed(frame)
    assert screen.content == ScreenContent.of("A1 □ □□")


def test_long_line_is_cut_at_a_character_boundary_and_too_many_lines_refused() -> None:
    frame = LineScreenEncoder().encode(1, ScreenContent.of("号" * 200))
    [screen] = LineScreenDecoder().feed(frame)
    assert screen.content == ScreenContent.of("号" * 127)  # 254 bytes; a 128th would be 256
    with pytest.raises(ValueError, match="at most 8 lines"):
        LineScreenEncoder().encode(1, ScreenContent.of(*["x"] * 9))


gb2312_char = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(
        lambda c: _encodable(c, "gb2312")),
    st.sampled_from("，。：（）号窗口请到暂停服务"),
)


def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


lines = st.builds(TextLine, st.text(gb2312_char, max_size=40), st.sampled_from(list(Colour)),
                  st.sampled_from(list(Effect)))
contents = st.builds(ScreenContent, st.lists(lines, max_size=4).map(tuple))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 254), contents), min_size=1, max_size=5),
       st.lists(st.integers(1, 40), max_size=30), st.binary(max_size=20))
def test_round_trip_in_any_chunking(screens: list[tuple[int, ScreenContent]],
                                    cuts: list[int], noise: bytes) -> None:
    encoder = LineScreenEncoder()
    stream = noise.replace(b"\xaa", b"") + b"".join(encoder.encode(a, c) for a, c in screens)
    decoder = LineScreenDecoder()
    got = []
    pos = 0
    for cut in cuts:
        got += decoder.feed(stream[pos:pos + cut])
        pos += cut
    got += decoder.feed(stream[pos:])
    assert [(s.address, s.content) for s in got] == screens


def test_garbage_between_frames_is_skipped() -> None:
    encoder = LineScreenEncoder()
    one, two = encoder.encode(1, ScreenContent.of("A001")), encoder.encode(2, EXAMPLE)
    # Noise includes a false start marker with a plausible length and an absurd one.
    noise = b"\x00\xff\xaa\x55\x05\x01\x03\x00xyz" + b"\xaa\x55\x01\x01\xff\xff" + b"junk"
    decoder = LineScreenDecoder()
    got = [s for chunk in (noise, one, noise, two, noise[:3]) for s in decoder.feed(chunk)]
    assert [(s.address, s.content) for s in got] == [
        (1, ScreenContent.of("A001")), (2, EXAMPLE)]
    assert decoder.errors, "noise must be reported"


@pytest.mark.parametrize("offset", range(2, 31))
def test_corrupted_byte_is_an_error_and_the_next_frame_still_decodes(offset: int) -> None:
    good = LineScreenEncoder().encode(3, EXAMPLE)
    bad = bytearray(good)
    bad[offset] ^= 0x10
    following = LineScreenEncoder().encode(4, ScreenContent.of("暂停服务"))
    decoder = LineScreenDecoder()
    got = decoder.feed(bytes(bad)) + decoder.feed(following)
    assert [(s.address, s.content) for s in got] == [(4, ScreenContent.of("暂停服务"))]
    assert decoder.errors


def test_payload_that_does_not_add_up_is_ignored() -> None:
    def frame(payload: bytes) -> bytes:
        body = bytes([5, 1]) + len(payload).to_bytes(2, "little") + payload
        return b"\xaa\x55" + body + crc16_modbus(body).to_bytes(2, "little") + b"\x0d"

    decoder = LineScreenDecoder()
    assert decoder.feed(frame(b"\x01\x01\x00\x02A")) == []  # text cut short
    assert decoder.feed(frame(b"\x01\x09\x00\x01A")) == []  # colour 9
    assert decoder.feed(frame(b"\x01\x01\x00\x01AB")) == []  # a stray byte
    assert decoder.feed(frame(b"\x01\x01\x00\x02\xff\xff")) == []  # not GBK
    assert len(decoder.errors) == 4
    [ok] = decoder.feed(frame(b"\x01\x07\x01\x01A"))
    assert ok.content == ScreenContent((TextLine("A", Colour.WHITE, Effect.SCROLL),))


def test_png_of_a_decoded_call_screen() -> None:
    frame = LineScreenEncoder().encode(3, ScreenContent((
        TextLine("A012 请到3号窗口", Colour.RED), TextLine("暂停服务", Colour.GREEN))))
    [screen] = LineScreenDecoder().feed(frame)
    path = render_png(screen, Geometry(128, 32), ARTIFACTS / "line_screen_call.png")
    with Image.open(path) as image:
        assert image.size == (128 * 6, 32 * 6)
        colours = {c for _, c in image.getcolors(maxcolors=1 << 16) or []}
    assert (255, 0, 0) in colours and (0, 255, 0) in colours
