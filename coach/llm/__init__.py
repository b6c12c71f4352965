"""The LLM side of the rewrite: prompts, token budget, redaction, the OpenAI-compatible client, checks."""
