"""A worker's or admin's own time zone: the worker pages show times in it (a family's days stay the
family's own calendar days)."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from ...errors import AppError
from ...models import User


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def viewer_zone(user: User, fallback: str = "UTC") -> str:
    """The zone ``user`` sees times in: their own setting, else ``fallback`` (the family's zone)."""
    return getattr(user, "timezone", "") or fallback


def set_staff_timezone(user: User, zone: str) -> User:
    """Save the staff member's time zone ("" = show each family's own). AppError 422 otherwise."""
    zone = (zone or "").strip()
    if zone and zone not in _zones():
        message = "Choose a time zone from the list, like Europe/London or America/Chicago."
        raise AppError(422, message, code="bad_timezone", fields={"timezone": message})
    user.timezone = zone
    user.save(only=[User.timezone])
    return user


def zone_names() -> list[str]:
    """Every IANA zone name with a region (for the settings list), sorted."""
    return sorted(name for name in _zones() if "/" in name and not name.startswith(("Etc/", "SystemV/")))
