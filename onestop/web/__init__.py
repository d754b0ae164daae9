"""The HTTP surface of the core: JSON API, websocket event stream, error mapping."""
