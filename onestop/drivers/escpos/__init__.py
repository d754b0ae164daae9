"""ESC/POS thermal printers: receipt model, encoder, status, transports, worker, emulator."""
