"""Hall screen, LED board content and voice calling: see issues [3/5] and [4/5]."""
