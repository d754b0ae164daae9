"""Admin and supervisor pages: the day's live overview, notices, windows, staff, devices."""
