"""`FragmentRenderer`: the Jinja2 fragments rules swap into slots.

Autoescape is always on: fragments render visitor data (search terms, stated names) that an
attacker controls. Templates are compiled once and not re-stat'ed per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChainableUndefined,
    Environment,
    FileSystemLoader,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)

from etalage.errors import FragmentError


class FragmentRenderer:
    """Renders the fragments of one folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        #: The folder as text: a cache key part that hashes at once (a `Path` hashes anew).
        self.folder_key = str(self.folder)
        self.env = Environment(
            loader=FileSystemLoader(self.folder),
            autoescape=True,
            undefined=ChainableUndefined,
            auto_reload=False,
            cache_size=1000,
            keep_trailing_newline=False,
        )

    def check(self, names: Iterable[str]) -> list[str]:
        """Problems with the named fragments (missing, or not valid Jinja2), one line each."""
        problems: list[str] = []
        for name in names:
            try:
                self.env.get_template(name)
            except TemplateNotFound:
                problems.append(f"{self.folder / name}: fragment not found")
            except TemplateSyntaxError as exc:
                where = exc.filename or str(self.folder / name)
                problems.append(f"{where}:{exc.lineno}: {exc.message}")
            except TemplateError as exc:
                problems.append(f"{self.folder / name}: {exc}")
        return problems

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a fragment; any failure becomes a `FragmentError` naming the fragment."""
        try:
            html = self.env.get_template(name).render(context)
            if not html.isascii():
                # A lone surrogate (JSON input may carry "\ud800") cannot become UTF-8 bytes.
                html = html.encode("utf-8", "replace").decode("utf-8")
            return html
        except TemplateNotFound as exc:
            if exc.name not in (None, name):  # an include or extends inside the fragment
                raise FragmentError(
                    f"{self.folder / name}: template {exc.name!r} not found"
                ) from None
            raise FragmentError(f"{self.folder / name}: fragment not found") from None
        except TemplateSyntaxError as exc:
            raise FragmentError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 - a broken fragment must fall back, not 500
            raise FragmentError(f"{self.folder / name}: {type(exc).__name__}: {exc}") from None
