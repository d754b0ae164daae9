"""`python -m onestop.signage.hallscreen --server URL`: the same as `onestop screen`."""

from __future__ import annotations

import sys

from onestop.signage.hallscreen.app import main

if __name__ == "__main__":
    sys.exit(main())
