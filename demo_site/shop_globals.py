"""The names the shop's fragments and templates may use besides their render context: the
catalog's, the product drawings, the next best offer and the trip kits."""

from __future__ import annotations

from typing import Any

from etalage.demo import catalog, drawings, kits, offers


def fragment_globals() -> dict[str, Any]:
    """`catalog.fragment_globals` plus `drawings.drawing`, `offers.next_best_offer` and
    `kits.trip_kit`."""
    return {
        **catalog.fragment_globals(),
        "drawing": drawings.drawing,
        "next_best_offer": offers.next_best_offer,
        "trip_kit": kits.trip_kit,
    }
