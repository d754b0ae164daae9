"""The hall screen as a native pygame program, for a TV driven by a small PC without a browser.

It follows the server's event stream exactly as /screen does and draws the same content:

    python -m onestop.signage.hallscreen --server http://192.168.1.10:8000
    onestop screen --server http://192.168.1.10:8000 [--token T] [--lang en] [--windowed]

model.py holds the state (pure), client.py the network thread, text.py and draw.py the pixels,
app.py the window and main loop.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on the console or in logs

from onestop.signage.hallscreen.client import HallClient
from onestop.signage.hallscreen.model import Call, ScreenModel

__all__ = ["Call", "HallClient", "ScreenModel"]
