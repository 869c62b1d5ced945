"""The version of the plugin API, plugins' declared requirements, and deprecation warnings.

A leaf module (it imports nothing from ``helpdesk``): the plugin manager checks plugins
with it, and ``helpdesk.plugin_api`` re-exports ``API_VERSION``. See ``CHANGES.md``.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

API_VERSION = "1.4"
"""The version of ``helpdesk.plugin_api`` and of the hooks. The major number changes when
something is removed or changes meaning (after a release in which it warned); the minor
number when something is added."""

REQUIRES_API_EXAMPLE = '>=1,<2'


def incompatibility(plugin: str, requires_api: Any) -> str | None:
    """Why ``plugin`` (declaring ``requires_api``) cannot run with this API; None when it can.

    A plugin that declares nothing is accepted: plugin API 1 is the first.
    """
    if requires_api is None:
        return None
    try:
        wanted = SpecifierSet(str(requires_api))
    except InvalidSpecifier:
        return (f"The {plugin} plugin declares requires_api = {requires_api!r}, which is not a version "
                f"range (write it like {REQUIRES_API_EXAMPLE!r}).")
    if wanted.contains(Version(API_VERSION), prereleases=True):
        return None
    return (f"The {plugin} plugin needs plugin API {requires_api}, but this Helpdesk offers plugin API "
            f"{API_VERSION}. Install a version of the plugin made for API {API_VERSION.split('.')[0]} "
            "(see its changelog), or update Helpdesk.")


def deprecation_message(old: str, advice: str, removed_in: str) -> str:
    return f"{old} is deprecated and will be removed in plugin API {removed_in}: {advice}"


def deprecated(advice: str, removed_in: str = "2.0") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a ``plugin_api`` function as deprecated: each call warns (``DeprecationWarning``)."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        message = deprecation_message(f"helpdesk.plugin_api.{func.__name__}", advice, removed_in)

        @functools.wraps(func)
        def warn_then_call(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return func(*args, **kwargs)

        warn_then_call.__doc__ = f"Deprecated: {advice}\n\n{func.__doc__ or ''}"
        return warn_then_call

    return decorate


def deprecated_names(module: str, names: dict[str, tuple[Callable[[], Any], str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for names kept only for a while: each use warns.

    ``names`` maps the old name to ``(get the value, advice, removed in version)``.
    """
    def module_getattr(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        get, advice, removed_in = names[name]
        warnings.warn(deprecation_message(f"{module}.{name}", advice, removed_in), DeprecationWarning,
                      stacklevel=2)
        return get()

    return module_getattr
