"""Hardware drivers (ESC/POS printers, serial LED boards): each a transport, a protocol and an
emulator. Drivers move bytes and know no tickets, so they never import onestop.queue."""
