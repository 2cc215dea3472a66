"""A caller's profile checked against the gazetteer: places made canonical, contradictions refused; mission codes
as the taxonomy spells them."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING

from convergenze.core.errors import InvalidInput
from convergenze.core.records import Profile
from convergenze.core.vocabulary import ActorType
from convergenze.extractors.gazetteer import Gazetteer

if TYPE_CHECKING:  # the taxonomy module imports spaCy: a region check must not pay for it
    from convergenze.extractors.taxonomy import Taxonomy


class ProfileError(InvalidInput):
    """A profile that cannot be used. ``code`` names the problem (the API maps it to a fixed message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def canonical_region(name: str, gazetteer: Gazetteer) -> str:
    """'emilia romagna' -> 'Emilia-Romagna'; an unknown name is a ``ProfileError``."""
    entry = gazetteer.lookup(name, "region")
    if entry is None:
        raise ProfileError("unknown_region", f"Unknown region {name!r}: use an Italian region's name, "
                           "e.g. 'Lazio' or 'Emilia-Romagna'.")
    return entry.name


def canonical_mission(code: str, taxonomy: Taxonomy) -> str:
    """A mission code of any framework ('SDG7', 'm2', 'climate') as the taxonomy spells it; an unknown code is a
    ``ProfileError``."""
    wanted = code.strip().casefold()
    for framework in taxonomy.frameworks:
        for entry in taxonomy.entries(framework):
            if entry.code.casefold() == wanted:
                return entry.code
    raise ProfileError("unknown_mission", f"Unknown mission code {code!r}: `convergenze map` and GET /v1/taxonomy "
                       "list the codes of every framework.")


def check_profile(profile: Profile, gazetteer: Gazetteer, today: date) -> Profile:
    region, municipality, actor = profile.region, profile.municipality, profile.actor_type
    if actor is not None:
        try:
            actor = ActorType(actor)
        except ValueError:
            raise ProfileError("unknown_actor_type", f"Unknown actor type {actor!r}: use one of "
                               f"{', '.join(ActorType)}.") from None
    if region is not None:
        region = canonical_region(region, gazetteer)
    if municipality is not None:
        town = gazetteer.lookup(municipality, "municipality")
        if town is None:
            raise ProfileError("unknown_municipality", f"Unknown municipality {municipality!r}: use its Italian "
                               "name as ISTAT writes it, e.g. 'Reggio nell'Emilia'.")
        town_region = gazetteer.region_name(town.region_code)
        if region is not None and town_region != region:
            raise ProfileError("municipality_not_in_region", f"{town.name} is in {town_region}, not in {region}: "
                               "give a municipality of the region, or leave one of them out.")
        municipality, region = town.name, town_region or region
    if profile.needed_by is not None and profile.needed_by < today:
        raise ProfileError("needed_by_in_past", f"needed_by ({profile.needed_by.isoformat()}) is in the past.")
    return dataclasses.replace(profile, actor_type=actor, region=region, municipality=municipality)
