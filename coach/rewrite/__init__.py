"""Rewriting a draft: the offline rules rewrite and the LLM rewrite, both verified by the checker."""
