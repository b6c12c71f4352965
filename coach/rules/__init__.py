"""Rules as data: the schema of knowledge/rules/*.toml, their loading and their matching."""
