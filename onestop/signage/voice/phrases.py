"""What to say: a ticket number and a window turned into the names of the clips to join.

Pure and fast, so `Announcer.announce` can reject a malformed ticket in the caller's thread.

Clip names (a hall's recorded pack uses the same names, as `<name>.wav`):

=================  =========  ==================================================
name               says       used for
=================  =========  ==================================================
``chime``          叮咚        optional; synthesised in code when the pack has none
``qing``           请          "please"
``hao``            号          after the ticket number
``dao``            到          "go to"
``hao_chuangkou``  号窗口      after the window number
``banli``          办理        "to be served"
``0`` … ``9``      零 一 … 九  ticket digits (read one by one) and window numbers
``10``             十          tens in window numbers (十二, 二十, 九十九)
``A`` … ``Z``      A … Z       ticket prefix letters, read as the letter's name
=================  =========  ==================================================
"""

from __future__ import annotations

import re
import string

CHIME = "chime"
WORDS = ("qing", "hao", "dao", "hao_chuangkou", "banli")
DIGITS = tuple(str(d) for d in range(10))
TEN = "10"
LETTERS = tuple(string.ascii_uppercase)
REQUIRED_CLIPS: tuple[str, ...] = (*WORDS, *DIGITS, TEN, *LETTERS)
"""Every clip a pack must hold (the chime is optional)."""

_TICKET = re.compile(r"([A-Za-z]*)([0-9]+)")


def ticket_clips(number: str) -> list[str]:
    """Letters by name, then each digit alone: "A012" → A 零 一 二, as Chinese halls read it."""
    match = _TICKET.fullmatch(number.strip())
    if match is None:
        raise ValueError(f"ticket number {number!r}: expected letters then digits, e.g. 'A012'")
    letters, digits = match.groups()
    return [*letters.upper(), *digits]


def window_clips(window: int | str) -> list[str]:
    """A window number read as a Chinese number (3 → 三, 12 → 十二, 20 → 二十, 99 → 九十九);
    numbers of 100 and above are read digit by digit (105 → 一零五), as halls do."""
    text = str(window).strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"window {window!r}: expected a whole number such as 3")
    n = int(text)
    if n < 10:
        return [str(n)]
    if n < 20:
        return [TEN] + ([str(n % 10)] if n % 10 else [])
    if n < 100:
        return [str(n // 10), TEN] + ([str(n % 10)] if n % 10 else [])
    return list(str(n))


def announcement_clips(number: str, window: int | str) -> list[str]:
    """The whole call: chime, 请, <ticket>, 号, 到, <window>, 号窗口, 办理."""
    return [
        CHIME,
        "qing",
        *ticket_clips(number),
        "hao",
        "dao",
        *window_clips(window),
        "hao_chuangkou",
        "banli",
    ]
