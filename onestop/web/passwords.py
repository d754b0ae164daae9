"""Staff passwords: the policy every new one must meet, generated ones, and argon2 off the loop.

The policy follows the spirit of 等保2.0 level 2 (GB/T 22239-2019, 身份鉴别: passwords of some
complexity, changed when needed): at least 10 characters, at least three of lower-case letters,
upper-case letters, digits and symbols, not containing the user name, and not one of the
passwords attackers try first (a small built-in list, compared after undoing the usual
substitutions, so "P@ssw0rd2024!" counts as "password").

Hashing and verifying with argon2 take tens of milliseconds of CPU and 64 MiB each, so they run
in their own small pool (`PasswordWorkers`), never on the event loop and never on the database
thread (one thread on SQLite: a burst of sign-ins must not hold up the hall's writes). The pool
admits a bounded number of jobs; beyond that a caller is told to try again shortly (429).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import string
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from onestop.queue.errors import DomainError, Rejected

MIN_LENGTH = 10
MIN_CLASSES = 3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Passwords tried first by anyone guessing (international lists and the ones common in China),
# and words that with a few digits or symbols around them make the usual weak password.
COMMON = _words("""
123456 1234567 12345678 123456789 1234567890 12345678910 0123456789 987654321 9876543210
111111 1111111111 000000 0000000000 888888 8888888888 666666 6666666666 123123 123123123
112233 121212 147258369 159357 5201314 1314520 woaini woaini1314 iloveyou aini1314 a123456
a12345678 aa123456 abc123 abc123456 abcd1234 qq123456 qwe123 qwerty qwerty123 qwertyuiop
1qaz2wsx 1qaz2wsx3edc 1q2w3e4r 1q2w3e4r5t zaq12wsx qazwsx qazwsxedc asdfghjkl zxcvbnm
zxcvbnm123 asd123 password password1 password123 passw0rd p@ssw0rd p@ssword admin admin123
admin888 administrator root root123 toor test test123 guest changeme default welcome welcome1
letmein monkey dragon sunshine football baseball princess master shadow superman trustno1
onestop onestop123 zhengwu zhengfu gov china beijing shanghai
""")
COMMON_WORDS = _words("""
password passwd pass admin administrator root test guest welcome letmein changeme default
qwerty qwertyuiop asdfghjkl zxcvbnm qazwsx iloveyou woaini onestop zhengwu zhengfu monkey
dragon sunshine master shadow superman princess football baseball abc abcd
""")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s",
                       "5": "s", "7": "t", "+": "t"})
SYMBOLS = "-_.!@#%+=?"
# Easy to read out and type: no 0/O, 1/l/I.
_LETTERS_LOWER = "abcdefghijkmnpqrstuvwxyz"
_LETTERS_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"


_hasher = PasswordHasher()


def hash_now(password: str) -> str:
    """Hash here and now (the command line, set-up); the server uses PasswordWorkers."""
    return _hasher.hash(password)


def _classes(password: str) -> int:
    return sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))


def _is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in COMMON or lowered.translate(_LEET) in COMMON:
        return True
    core = lowered.strip(string.digits + string.punctuation + " ")
    return bool(core) and (core in COMMON_WORDS or core.translate(_LEET) in COMMON_WORDS)


def problems(password: str, username: str = "") -> list[tuple[str, str]]:
    """What is wrong with `password` for the account `username`, as (zh, en) pairs."""
    found: list[tuple[str, str]] = []
    if len(password) < MIN_LENGTH:
        found.append((f"至少 {MIN_LENGTH} 位", f"at least {MIN_LENGTH} characters"))
    if _classes(password) < MIN_CLASSES:
        found.append(("须包含大写字母、小写字母、数字、符号中的至少 3 类",
                      "at least 3 of: lower-case letters, upper-case letters, digits, symbols"))
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        found.append(("不能包含用户名", "must not contain the user name"))
    if _is_common(password):
        found.append(("不能使用常见密码", "must not be a common password"))
    return found


def check(password: str, username: str = "") -> None:
    """Raise Rejected (422) naming every rule `password` breaks."""
    found = problems(password, username)
    if found:
        raise Rejected("密码不符合要求：" + "；".join(zh for zh, _ in found),
                       "the password does not meet the policy: " + "; ".join(en for _, en in found),
                       field="password")


def generate(username: str = "") -> str:
    """A random password that meets the policy and reads out easily: `Kp7x-Rt4m-Wq9z`."""
    pool = _LETTERS_LOWER + _LETTERS_UPPER + _DIGITS
    while True:
        groups = ["".join(secrets.choice(pool) for _ in range(4)) for _ in range(3)]
        password = "-".join(groups)
        if _classes(password) == 4 and not problems(password, username):
            return password


BACKGROUND_NICE = 10


def _background_priority() -> None:
    """argon2 threads give way to the event loop and the database thread when the CPU is
    contended (on Linux a thread has its own nice value, and argon2's lane threads inherit it),
    so a burst of sign-ins slows sign-ins, not the hall's screens."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       max(BACKGROUND_NICE, os.getpriority(os.PRIO_PROCESS, tid)))


class PasswordsBusy(DomainError):
    status = 429
    code = "busy"


class PasswordWorkers:
    """argon2 hashing and verifying in a small bounded pool of its own: `workers` threads (one
    or two, a core fewer than the machine has) and at most `queue` jobs waiting for them."""

    def __init__(self, workers: int | None = None, queue: int = 4,
                 hasher: PasswordHasher | None = None) -> None:
        if workers is None:
            # One core is left to the event loop and the database: on a two-core hall PC one
            # worker checks more passwords per second than two fighting for the same core.
            workers = max(1, min(2, (os.cpu_count() or 2) - 1))
        self.hasher = hasher or _hasher
        self.limit = workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2",
                                        initializer=_background_priority)
        self._lock = threading.Lock()
        self._in_flight = 0
        # Verifying an unknown user still costs one hash, so timing does not reveal names.
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def _admit(self) -> None:
        with self._lock:
            if self._in_flight >= self.limit:
                raise PasswordsBusy("登录请求过多，请稍后再试",
                                    "too many sign-ins at once; try again in a moment")
            self._in_flight += 1

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def verify_now(self, password_hash: str | None, password: str) -> bool:
        """Blocking verify (the CLI, tests); `None` verifies against a dummy hash: False."""
        try:
            self.hasher.verify(password_hash or self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return password_hash is not None

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Verify in the pool; PasswordsBusy (429) when the pool is full."""
        self._admit()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.verify_now, password_hash,
                                              password)
        finally:
            self._done()

    async def hash(self, password: str) -> str:
        self._admit()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.hasher.hash, password)
        finally:
            self._done()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
