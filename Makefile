# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: install install-test run test test-slow check-shared bench index train clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

index: install
	$(VENV)/bin/coach index

train: install
	$(VENV)/bin/coach train

run: install index
	$(VENV)/bin/streamlit run ui/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

# The whole suite on a fresh clone of this repository alone (no ../shared needed; a missing
# Chromium skips the browser test with its reason).
test: install-test
	$(PY) -m pytest -q

# Tests marked slow (the bench runs, many processes at once).
test-slow: install-test
	$(PY) -m pytest -q -m slow

# Acceptance figures on the shared evaluation folder (../shared, or COACH_SHARED_DIR); CI runs this.
check-shared: install-test
	$(PY) -m pytest -q checks

SHARED ?= ../shared
bench: install-test
	$(VENV)/bin/coach bench $(if $(wildcard $(SHARED)/eval/dev.jsonl),--drafts $(SHARED)/eval/dev.jsonl,)
	$(PY) tools/bench_llm.py $(if $(wildcard $(SHARED)/eval/dev.jsonl),--drafts $(SHARED)/eval/dev.jsonl,)

clean:
	rm -rf $(VENV) build dist *.egg-info
