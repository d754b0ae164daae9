"""LED signs: the hall's colour board and the small screens above each window.

Each protocol is a pure encoder (content → bytes) with an emulator written from the protocol's
own documents (bytes → content); `bus.py` moves the bytes over one serial line or TCP link.
Content is text with colours (`content.py`); graphic controllers get it as a bitmap
(`render.py`). Nothing here knows tickets or windows: `onestop.signage` decides what to show.
"""
