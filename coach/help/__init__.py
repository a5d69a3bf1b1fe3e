"""``/help``: the page that always reaches a person (DESIGN.md "Safety and the care loop")."""
