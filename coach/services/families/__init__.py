"""Families: check-ins, journal and streaks, settings, privacy, engagement and the caseload, support resources."""
