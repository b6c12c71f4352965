"""Tools for measuring coach, not for using it: a local OpenAI-compatible stand-in for benchmarks and tests."""
