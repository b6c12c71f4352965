"""The local OpenAI-compatible test server lives in coach.devtools.fake_llm (coach bench uses it too)."""

from coach.devtools.fake_llm import *  # noqa: F403
from coach.devtools.fake_llm import EMBEDDING_DIM, FakeLLMServer, RecordedRequest, Reply, error_body, fake_embedding  # noqa: F401
