"""`ReloadingRuleset`: picks up an edited rule file without a restart, keeping the last good set."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from etalage.errors import RuleFileError
from etalage.rules.loader import load_ruleset
from etalage.rules.ruleset import Ruleset

logger = logging.getLogger("etalage")


class ReloadingRuleset:
    """Hold the current `Ruleset` of a file, re-reading it when it changes.

    The file is checked at most once per `interval` seconds (a `stat`, no read). A broken edit
    keeps the last good rule set and logs one error per broken version of the file.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self._monotonic = monotonic
        self._ruleset = load_ruleset(self.path)
        self._signature = self._stat()
        self._checked_at = monotonic()
        self.last_error: RuleFileError | None = None

    def current(self) -> Ruleset:
        """Return the rule set in force, reloading first if the file changed."""
        now = self._monotonic()
        if now - self._checked_at >= self.interval:
            self._checked_at = now
            signature = self._stat()
            if signature != self._signature:
                self._signature = signature
                self._reload()
        return self._ruleset

    def _reload(self) -> None:
        try:
            self._ruleset = load_ruleset(self.path)
        except RuleFileError as exc:
            self.last_error = exc
            logger.error("rule file not reloaded, keeping the last good rules: %s", exc)
        else:
            self.last_error = None
            logger.info("rule file reloaded: %s", self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)
