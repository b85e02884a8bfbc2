# Every developer command. Each target is a thin call to the `codeflow-db` CLI or a
# tool in .venv, so the same thing works without make. `make help` lists them.
# The first target that needs the environment creates it (.venv, package + dev extras).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CLI := $(BIN)/codeflow-db
STAMP := $(VENV)/.installed-stamp
STEPS ?= 1
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install dev db-up db-down migrate migrate-deploy rollback migrate-status new-migration \
        schema seed reset psql studio status test test-unit test-integration lint check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv with the package and its dev tools

dev: $(STAMP) ## bring up the dev database, migrate, seed, print status
	$(CLI) dev

db-up: $(STAMP) ## start the local database (embedded, or Docker where it runs)
	$(CLI) db-up

db-down: $(STAMP) ## stop the local database servers (data is kept)
	$(CLI) db-down

migrate: $(STAMP) ## apply pending migrations, refresh db/schema.sql
	$(CLI) migrate

migrate-deploy: $(STAMP) ## production: wait for DATABASE_URL, migrate, no dump
	$(CLI) migrate-deploy

rollback: $(STAMP) ## roll back STEPS migrations (default 1); local databases only
	$(CLI) rollback --steps $(STEPS)

migrate-status: $(STAMP) ## applied and pending migrations (exit 1 if pending)
	$(CLI) migrate-status

new-migration: $(STAMP) ## new migration file: make new-migration NAME=add_things
	@test -n "$(NAME)" || { echo "usage: make new-migration NAME=lower_snake_case"; exit 2; }
	$(CLI) new-migration $(NAME)

schema: $(STAMP) ## rewrite db/schema.sql from the migrated dev database
	$(CLI) schema

seed: $(STAMP) ## load development fixtures (idempotent)
	$(CLI) seed

reset: $(STAMP) ## drop, create, migrate and seed the dev database
	$(CLI) reset

psql: $(STAMP) ## psql on the dev database
	$(CLI) psql

studio: $(STAMP) ## browse/edit the dev database in pgAdmin 4 in the browser (installed into .codeflow/ on first use)
	$(CLI) studio

status: $(STAMP) ## where the dev database stands
	$(CLI) status

test: $(STAMP) ## the whole test suite (unit + integration)
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: $(STAMP) ## tests that need no database
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

test-integration: $(STAMP) ## tests on a real, migrated PostgreSQL
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

.PHONY: test-wheel
test-wheel: $(STAMP) ## the built wheel in clean venvs: every codeflow-db command, and the bare runtime
	$(BIN)/pytest tests/wheel $(PYTEST_ARGS)

.PHONY: interop-deps test-interop
interop-deps: ## npm ci (when stale) + offline prisma generate for tests/interop/prisma (Node.js 20.19+)
	bash tests/interop/prisma/install.sh

test-interop: $(STAMP) ## the real @auth/prisma-adapter (Prisma 7) and AuthStore on one migrated database
	$(BIN)/pytest tests/interop $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (check + format), mypy --strict, import contract (runtime without tools), compose config, sqlfluff + squawk, cfn-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/docker-compose -f docker-compose.yml config -q
	$(MAKE) --no-print-directory lint-sql
	$(MAKE) --no-print-directory cfn-lint

check: lint test verify-sql verify-migrations types-check docs-check ## everything CI runs

.PHONY: purge
purge: $(STAMP) ## delete expired sessions and verification tokens (BATCH=500 rows per statement)
	$(CLI) purge --batch-size $(or $(BATCH),500)

# --- checked SQL (codeflow/tools/checks.py, migration_checks.py) ----------------------------
.PHONY: lint-sql verify-sql types types-check docs docs-check
lint-sql: $(STAMP) ## sqlfluff on queries and migrations; squawk on each migration's up and down parts; no DDL in DO blocks
	$(BIN)/sqlfluff lint queries db/migrations
	$(CLI) lint-migrations

verify-sql: $(STAMP) ## every query checked against a fresh test schema; plan guard on a large, skewed dataset
	$(CLI) verify-sql

.PHONY: verify-migrations
verify-migrations: $(STAMP) ## each migration's down undoes its up (catalog diff); foreign keys indexed; no duplicate indexes
	$(CLI) verify-migrations

types: $(STAMP) ## regenerate codeflow/generated_queries.py (a typed function per query) from the SQL
	$(CLI) types

types-check: $(STAMP) ## fail if codeflow/generated_queries.py is stale
	$(CLI) types --check

docs: $(STAMP) ## regenerate docs/queries.md, the query catalog with plans
	$(CLI) docs

docs-check: $(STAMP) ## fail if docs/queries.md is stale (plans compared by shape: nodes, tables, indexes)
	$(CLI) docs --check

# --- production (infra/, tests/production) ------------------------------------------------
.PHONY: cfn-lint test-production
cfn-lint: $(STAMP) ## validate the RDS CloudFormation template (infra/rds.yaml)
	$(BIN)/cfn-lint infra/rds.yaml

test-production: $(STAMP) ## PgBouncer, TLS, IAM, roles, retry, replica and failover tests (starts its own servers)
	$(BIN)/pytest tests/production $(PYTEST_ARGS)

.PHONY: failover-figures
failover-figures: $(STAMP) ## docs/production.md's replication figures: RUNS=5 failovers per mode, lag, read throughput
	$(BIN)/python -m tests.production.failover_figures --runs $(or $(RUNS),5)

.PHONY: prune-prs
prune-prs: $(STAMP) ## delete cached PRs nobody monitors, and closed ones older than DAYS=90 (BATCH=1000 rows per statement)
	$(CLI) prune-prs --retention-days $(or $(DAYS),90) --batch-size $(or $(BATCH),1000)

# --- benchmarks and reliability (bench/, tests/reliability) --------------------------------
.PHONY: bench bench-large seed-large test-reliability
bench: $(STAMP) ## service vs asyncpg/SQLAlchemy/psycopg/pgbench, 1k users (codeflow_bench); docs/benchmarks.md
	$(BIN)/python -m bench --size small $(BENCH_ARGS)

bench-large: $(STAMP) ## the same on 100k users / ~1M repositories (loads them first if needed)
	$(BIN)/python -m bench --size large $(BENCH_ARGS)

seed-large: $(STAMP) ## (re)load 100k users / ~1M repositories into codeflow_bench with COPY
	$(BIN)/python -m bench --size large --seed-only

test-reliability: $(STAMP) ## restart under load, killed connections, timeouts, races, bad input
	$(BIN)/pytest tests/reliability $(PYTEST_ARGS)
