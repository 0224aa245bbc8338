# hippoflow: `make demo` and `make test` set up everything on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo/data
CORES ?= 2

.PHONY: demo test test-fast bench lint format dag docs clean system-deps

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Debian packages the workflow's tools use (graphviz for --dag pictures), when running as root
system-deps:
	@if ! command -v dot >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; \
	  else echo "graphviz (dot) missing: install it to draw the DAG"; fi; \
	fi

$(DEMO)/.generated: $(STAMP) $(wildcard hippoflow/synth/*.py)
	$(BIN)/python -m hippoflow.synth --out $(DEMO) --channels 8 --seconds 60 --sessions 2
	touch $@

demo: $(STAMP) system-deps $(DEMO)/.generated
	$(BIN)/snakemake --profile profiles/local --cores $(CORES) --config data_root=$(DEMO)
	$(BIN)/snakemake --profile profiles/local --cores $(CORES) --config data_root=$(DEMO) --report report.html
	@echo "Demo outputs are under $(DEMO)/ (logs in logs/)."
	@echo "Report: $(CURDIR)/report.html (open it in a browser)"

# The cluster tests' jobs mostly wait on Slurm (submission, status checks): they run beside
# the other tests, each with a temp dir of its own; the cluster part's output follows.
TESTTMP ?= /tmp/hippoflow-make-test
test: $(STAMP) system-deps
	@rm -rf $(TESTTMP) && mkdir -p $(TESTTMP)
	@export HIPPOFLOW_SKIP_REPORT=$(TESTTMP)/skipped.txt; \
	$(BIN)/python -m pytest tests/cluster -q --basetemp=$(TESTTMP)/cluster \
	  > $(TESTTMP)/cluster.txt 2>&1 & cluster=$$!; \
	$(BIN)/python -m pytest tests -q --ignore=tests/cluster --basetemp=$(TESTTMP)/rest; rest=$$?; \
	wait $$cluster; cl=$$?; \
	echo "== tests/cluster (run beside the others)"; cat $(TESTTMP)/cluster.txt; \
	if [ -s $(TESTTMP)/skipped.txt ]; then echo "== skipped tests, and why:"; cat $(TESTTMP)/skipped.txt; \
	else echo "== no test skipped"; fi; \
	echo "== tests outside tests/cluster: exit $$rest; tests/cluster: exit $$cl"; \
	test $$rest -eq 0 && test $$cl -eq 0

# The unit tests without the slow ones (one to three minutes): what a contributor runs while working.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q -m "not slow" -p no:cacheprovider

# Regenerate what the docs take from the code: the configuration key table and the rule graph.
docs: $(STAMP) system-deps $(DEMO)/.generated
	$(BIN)/python -m hippoflow.config
	$(BIN)/snakemake --rulegraph --config data_root=$(DEMO) | dot -Tsvg > docs/images/rulegraph.svg

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP) $(DEMO)/.generated
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint --config data_root=$(DEMO)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules

dag: $(STAMP) system-deps
	$(BIN)/snakemake --dag --config data_root=$(DEMO) | dot -Tsvg > dag.svg
	@echo "wrote dag.svg"

clean:
	rm -rf demo logs benchmarks/runs .snakemake dag.svg report.html
