"""Where checks are found: ``"01.count_parameters"`` lives in ``autograder.specs.nb01``."""

from __future__ import annotations

import importlib

from autograder.specs.base import Check

_REGISTRY: dict[str, Check] = {}


def register(*checks: Check) -> None:
    for chk in checks:
        if chk.id in _REGISTRY and _REGISTRY[chk.id] is not chk:
            raise ValueError(f"check id {chk.id!r} is registered twice")
        _REGISTRY[chk.id] = chk


def spec_module(prefix: str) -> object:
    return importlib.import_module(f"autograder.specs.nb{prefix}")


def get(check_id: str) -> Check:
    """The check with this id, importing its notebook's spec module on first use."""
    if not isinstance(check_id, str) or "." not in check_id:
        raise ValueError(f"a check id looks like '01.count_parameters', got {check_id!r}")
    if check_id not in _REGISTRY:
        prefix = check_id.split(".", 1)[0]
        try:
            spec_module(prefix)
        except ModuleNotFoundError:
            if not any(k.startswith(prefix + ".") for k in _REGISTRY):
                raise KeyError(f"no checks for notebook {prefix!r} (id {check_id!r})") from None
    try:
        return _REGISTRY[check_id]
    except KeyError:
        known = sorted(k for k in _REGISTRY if k.startswith(check_id.split(".")[0] + "."))
        raise KeyError(f"unknown check {check_id!r}; this notebook has: {', '.join(known)}") from None


def all_ids(prefix: str) -> list[str]:
    spec_module(prefix)
    return sorted(k for k in _REGISTRY if k.startswith(prefix + "."))


def forbidden(prefix: str) -> tuple[str, ...]:
    """The course modules that implement notebook ``prefix``'s exercises (never in its sandbox)."""
    return tuple(getattr(spec_module(prefix), "FORBIDDEN", ()))
