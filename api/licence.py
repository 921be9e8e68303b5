"""The licence the platform's open data is offered under (`GONGPEI_DATA_LICENCE`).

The default is CC BY 4.0: the locker registry and the open-data figures are the platform's own
records (lockers installed by its admins or imported from their operators' files, deposits
counted by its bookings), not extracts of OpenStreetMap, so no share-alike term binds them;
CC BY is what open-government portals most often use, lets anyone reuse the data, commercially
too, and asks only for credit. A platform whose locker file was taken from OpenStreetMap must
say `ODbL-1.0` (a derived database stays under the ODbL); one with its own terms gives them as
`Name <https://...>`. (The road layer of `/map/network.geojson` is OSM's, and says so.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Licence:
    """A licence by its name, its SPDX identifier ("" for terms of the platform's own) and
    the address of its text."""

    name: str
    identifier: str
    url: str

    def as_json(self) -> dict[str, Any]:
        """The licence as each saved answer carries it (a file kept loses its headers)."""
        return {"name": self.name, "identifier": self.identifier or None, "url": self.url}

    def link(self) -> str:
        """The HTTP `Link` header naming the licence (RFC 8288; `license`, RFC 4946)."""
        return f'<{self.url}>; rel="license"'


#: The open-data licences a platform is likely to pick, by SPDX identifier.
OPEN_DATA_LICENCES = {
    licence.identifier.lower(): licence
    for licence in (
        Licence(
            "Creative Commons Attribution 4.0 International",
            "CC-BY-4.0",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        Licence(
            "Creative Commons Attribution Share Alike 4.0 International",
            "CC-BY-SA-4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/",
        ),
        Licence(
            "Creative Commons Zero v1.0 Universal",
            "CC0-1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        Licence(
            "Open Data Commons Open Database License v1.0",
            "ODbL-1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/",
        ),
        Licence(
            "Open Data Commons Attribution License v1.0",
            "ODC-By-1.0",
            "https://opendatacommons.org/licenses/by/1-0/",
        ),
        Licence(
            "Open Data Commons Public Domain Dedication & License 1.0",
            "PDDL-1.0",
            "https://opendatacommons.org/licenses/pddl/1-0/",
        ),
    )
}
DEFAULT_LICENCE = "CC-BY-4.0"
#: Terms of the platform's own: a name, then the address of their text in angle brackets.
_OWN_TERMS = re.compile(r"(?P<name>[^<>]*\S)\s*<(?P<url>https?://[^\s<>\"]+)>")


def licence_named(value: str) -> Licence:
    """The licence ``value`` names: an SPDX identifier of `OPEN_DATA_LICENCES` (any case), or
    `Name <https://...>`. ValueError saying the forms otherwise: the licence is shown to every
    user of the data, so a typo must not reach them."""
    known = OPEN_DATA_LICENCES.get(value.strip().lower())
    if known is not None:
        return known
    own = _OWN_TERMS.fullmatch(value.strip())
    if own is None:
        choices = ", ".join(licence.identifier for licence in OPEN_DATA_LICENCES.values())
        raise ValueError(
            f"'{value}' is not a licence: one of {choices}, or your own terms as "
            "'Name <https://...>'"
        )
    return Licence(own["name"], "", own["url"])
