"""Lazy package exports (PEP 562): a package's public names, imported on first access.

A package ``__init__`` that re-exports names from its submodules imports all of them,
and everything they import, as soon as any one name is asked for. With
:func:`lazy_exports` the package imports only the submodule that defines the name
asked for: ``from airgrid.routing import plan_route`` stays the public import but no
longer loads, say, the multi-stop planner. Each name is resolved once and then kept in
the package's namespace like an ordinary import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for a package's lazily imported names.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Submodule name (relative to the package) -> the public names it defines.

    Returns
    -------
    (__getattr__, __dir__)
        To assign at the package's module level.

    Raises
    ------
    ValueError
        A name is listed under two submodules.
    """
    where: dict[str, str] = {}
    for sub, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name} listed under {where[name]} and {sub}")
            where[name] = sub

    def __getattr__(name: str) -> object:
        """Import the submodule defining ``name`` and keep the name in the package."""
        sub = where.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        """The package's namespace plus the names not imported yet."""
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
