"""etalage's pytest plugin (entry point ``pytest11: etalage``): the `etalage.testing` helpers
as fixtures.

- ``etalage_clock``: a `ManualClock` at `etalage.testing.START`; give it to the middleware
  (``EtalageMiddleware(clock=etalage_clock)``) and move it with ``etalage_clock.advance("15d")``.
- ``etalage_client``: a factory, ``etalage_client(app, secret_keys=..., rules=...)``, of
  `EtalageClient` visitors dated by ``etalage_clock``, closed when the test ends.

pytest loads this module in every session once etalage is installed (``-p no:etalage`` turns
it off), so it imports nothing at load beyond pytest: `etalage.testing` needs Starlette's test
client, and with it httpx, which a site's own test set-up may not have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the annotations only: importing it at load would need httpx (see above)
    from etalage.testing import EtalageClient, ManualClock


@pytest.fixture
def etalage_clock() -> ManualClock:
    """A clock standing at `etalage.testing.START` until the test moves it."""
    from etalage.testing import ManualClock

    return ManualClock()


@pytest.fixture
def etalage_client(
    etalage_clock: ManualClock,
) -> Iterator[Callable[..., EtalageClient]]:
    """A factory of visitors: ``etalage_client(app, secret_keys=..., rules=..., **options)``.

    Each is an `EtalageClient` (a browser's User-Agent, ``.start(profile, holdout=...)``)
    whose cookies are dated by ``etalage_clock`` unless ``clock=`` says otherwise.
    """
    from etalage.testing import EtalageClient

    made: list[EtalageClient] = []

    def make(app: Any, **options: Any) -> EtalageClient:
        options.setdefault("clock", etalage_clock)
        client = EtalageClient(app, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
