"""etalage.middleware: the ASGI middleware, the page skeleton compiler and the endpoints."""

from etalage.middleware.app import EtalageMiddleware
from etalage.middleware.state import RequestState
from etalage.middleware.static_site import StaticSite

__all__ = ["EtalageMiddleware", "RequestState", "StaticSite"]
