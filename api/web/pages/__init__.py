"""One router per page family; ``PAGES`` is what ``install`` mounts, in this order."""

from __future__ import annotations

from . import actors, alerts, analyse, calendar, documents, home, match, mission_map, overlaps, places, search, status

PAGES = (home, search, match, analyse, overlaps, documents, calendar, actors, mission_map, alerts, status, places)
