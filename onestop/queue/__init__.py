"""The domain core: catalogue, tickets, windows, calling policy, the store and its ledger.

Nothing here imports a web framework or a hardware library: kiosks, screens and drivers depend
on this package, never the other way round.
"""
