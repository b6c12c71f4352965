"""Settings from the environment or a .env file in the working folder (names as in the spec)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from coach.paths import default_data_dir

DEFAULT_MODEL = "gpt-4o-mini"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    model: str = Field(default=DEFAULT_MODEL, validation_alias="COACH_MODEL")
    offline: bool = Field(default=False, validation_alias="COACH_OFFLINE")
    llm_timeout: float = Field(default=30.0, gt=0, le=600, validation_alias="COACH_LLM_TIMEOUT")
    embeddings: Literal["local", "openai"] = Field(default="local", validation_alias="COACH_EMBEDDINGS")
    embedding_model: str = Field(default="text-embedding-3-small", validation_alias="COACH_EMBEDDING_MODEL")
    data_dir: Path = Field(default_factory=default_data_dir, validation_alias="COACH_DATA_DIR")
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, ge=1, le=65535, validation_alias="CHROMA_PORT")
    redact: bool = Field(default=True, validation_alias="COACH_REDACT")
    prompt_token_budget: int = Field(default=1500, ge=300, validation_alias=AliasChoices("COACH_PROMPT_BUDGET"))
    retrieval_k: int = Field(default=4, ge=1, le=20, validation_alias=AliasChoices("COACH_K"))
    hybrid_search: bool = Field(default=False, validation_alias="COACH_HYBRID")  # BM25 beside the embedding, fused
    # seconds a Chroma server may take to answer one request, and a retrieval inside a rewrite
    chroma_timeout: float = Field(default=10.0, gt=0, le=600, validation_alias="COACH_CHROMA_TIMEOUT")
    # after the knowledge base failed, rewrites go without it for this many seconds before trying again
    retrieval_retry_after: float = Field(default=30.0, ge=0, le=3600, validation_alias="COACH_RETRIEVAL_RETRY_AFTER")
    # the largest file `coach index --add` takes, in MB
    max_file_mb: float = Field(default=5.0, gt=0, le=1024, validation_alias="COACH_MAX_FILE_MB")

    @field_validator("openai_base_url", "chroma_host", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment variable the settings read (from the fields, so the list never drifts)."""
        names: list[str] = []
        for field in cls.model_fields.values():
            alias = field.validation_alias
            if isinstance(alias, str):
                names.append(alias)
            elif isinstance(alias, AliasChoices):
                names.extend(a for a in alias.choices if isinstance(a, str))
        return names

    @property
    def llm_enabled(self) -> bool:
        """LLM mode is on when a key or a base URL is set, unless COACH_OFFLINE=1."""
        if self.offline:
            return False
        return self.openai_api_key is not None or self.openai_base_url is not None


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value becomes a ConfigError naming the variable (never its value)."""
    from pydantic import ValidationError

    from coach.errors import ConfigError

    from coach.secrets import remember

    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]) for err in exc.errors() if err.get("loc"))
        raise ConfigError(f"invalid configuration value for: {names}") from None
    if settings.openai_api_key is not None:
        remember(settings.openai_api_key.get_secret_value())  # so it is masked wherever it might show
    return settings
