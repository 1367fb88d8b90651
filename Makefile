# Bildungsportal: `make run` (embedded), `make test` (every tier), `make bench`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# -P: never import from the working directory (./gateway would shadow the gateway package).
RUN_PY := $(PY) -P
# tests/ holds the tiers that span projects: system tests (event catalogue) and the e2e flow.
PROJECTS := shared $(sort $(dir $(wildcard services/*/pyproject.toml))) gateway tests
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
TEST_AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672//
export TEST_DATABASE_URL TEST_AMQP_URL

.PHONY: help bootstrap infra system-packages run run-distributed nginx-config test lint format bench clean distclean

help:
	@echo "make run              the whole portal in one process on http://127.0.0.1:8080 (PORT overrides)"
	@echo "make run-distributed  every service under gunicorn, RabbitMQ, PostgreSQL, nginx on :8080"
	@echo "make test             lint and every project's tests (starts PostgreSQL/RabbitMQ if down)"
	@echo "make lint             ruff, import-linter (layers) and mypy (types)"
	@echo "make bench            edge, relay, mail and import benchmarks (results in bench/results/)"
	@echo "make clean            remove local data (var/) and caches"

bootstrap:
	@./scripts/bootstrap.sh

infra:
	@./scripts/ensure-infra.sh

system-packages:
	@./scripts/ensure-system-packages.sh nginx chromium pdf

run: bootstrap
	@./scripts/ensure-system-packages.sh pdf
	$(RUN_PY) -m gateway.embedded

run-distributed: bootstrap infra
	@./scripts/ensure-system-packages.sh nginx pdf
	$(RUN_PY) -m gateway.distributed run

nginx-config: bootstrap
	$(RUN_PY) -m gateway.nginx --mode compose > gateway/nginx/nginx.conf

# Source roots of every project, for import-linter and mypy (the editable installs hide them).
SOURCE_ROOTS := shared:gateway:$(subst $(eval) ,:,$(patsubst %/,%,$(sort $(dir $(wildcard services/*/pyproject.toml)))))
TYPED_PACKAGES := chassis gateway identity training_records exams documents notifications

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=$(SOURCE_ROOTS) $(VENV)/bin/lint-imports
	$(VENV)/bin/mypy $(addprefix -p ,$(TYPED_PACKAGES))

format: bootstrap
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Each project runs in its own pytest invocation (own rootdir, own conftest); all of them run
# even when one fails, and the exit status says whether any failed.
test: bootstrap infra system-packages lint
	@failed=(); \
	for project in $(PROJECTS); do \
	  project=$${project%/}; \
	  echo "=== $$project"; \
	  (cd $$project && $(VENV)/bin/pytest -q -p no:cacheprovider); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "=== $$project: no tests collected"; \
	  elif [ $$rc -ne 0 ]; then failed+=("$$project"); fi; \
	done; \
	if [ $${#failed[@]} -ne 0 ]; then echo "=== FAILED: $${failed[*]}"; exit 1; fi; \
	echo "=== all projects passed"

bench: bootstrap infra
	@./scripts/ensure-system-packages.sh nginx wrk
	$(PY) bench/run.py

clean:
	rm -rf var .pytest_cache .ruff_cache bench/results/*.tmp
	find . -path ./.venv -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf .venv
