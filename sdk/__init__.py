"""etalage: personalize static or ASGI-served HTML at the edge, before the page leaves the server."""

from etalage.errors import ConfigError, EtalageError, FragmentError, RuleFileError

__all__ = ["ConfigError", "EtalageError", "FragmentError", "RuleFileError"]
__version__ = "0.1.0"
