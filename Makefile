# Presence on Kafka. `make test` and `make demo` do all set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.infra/pyclient/.complete: infra/pyclient.sh
	bash infra/pyclient.sh

chromium: ## Install Debian's chromium if missing (headless demo-page test)
	bash infra/chromium.sh

deps: node_modules/.installed .infra/pyclient/.complete chromium ## Install npm packages, the independent test client and chromium

up: ## Fetch (first time) and start Kafka and the schema registry on 127.0.0.1; idempotent
	bash infra/up.sh

down: ## Stop what `make up` started (by pid file)
	bash infra/down.sh

provision: node_modules/.installed up ## Create every topic and register every schema (idempotent)
	tsx infra/provision.ts

build: node_modules/.installed ## Compile the services to dist/ (tsc, tsconfig.build.json) with the schemas and public assets they read
	node infra/build.mjs

typecheck: node_modules/.installed ## Type-check everything with tsc
	tsc --noEmit -p .

types: node_modules/.installed ## Regenerate TypeScript types from schemas/*.avsc
	tsx services/contract/generate-types.ts

unit: node_modules/.installed ## Unit tests only (no I/O), with coverage of the presence core
	jest --selectProjects unit --coverage

int: deps up ## Integration tests against the real broker and registry
	INFRA_AUTOSTART=0 jest --selectProjects int

test: deps up typecheck ## Everything: type-check, unit tests with coverage, integration tests
	INFRA_AUTOSTART=0 jest --coverage --forceExit --json --outputFile=.infra/jest-results.json

demo: deps provision build ## The main job: processor, query, gate, gateway and a simulated population; live page; Ctrl-C stops
	node dist/services/demo/main.js

processor: provision build ## Run the processor in the foreground (Ctrl-C stops it); malloc settings as in services/processor/malloc-env.ts
	MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node dist/services/processor/main.js

gate: provision build ## Run the notification gate in the foreground (Ctrl-C stops it)
	node dist/services/notification-gate/main.js

gateway: provision build ## Run the gateway in the foreground (needs AUTH_JWT_SECRET or AUTH_INSECURE_DEV=1)
	node dist/services/gateway/main.js

query: provision build ## Run the query service in the foreground (needs AUTH_JWT_SECRET or AUTH_INSECURE_DEV=1)
	node dist/services/query/main.js

history: provision build ## Run the history service in the foreground (needs AUTH_JWT_SECRET or AUTH_INSECURE_DEV=1)
	node dist/services/history/main.js

bench: node_modules/.installed up build ## Throughput (both modes) vs ceilings, restore, memory, offline detection, SSE latency, capacity, gateway; ~10 min; .infra/bench/results.json
	tsx test/bench/run.ts

chaos: node_modules/.installed ## Fault suite: its own 3-node cluster + registry (ports 29192-29197/28181), 8 scenarios, one table; ~7 min; .infra/chaos/results.json
	tsx test/chaos/run.ts

check-lifecycle: ## make up twice then down twice leaves no process of ours behind
	bash infra/check-lifecycle.sh

check-connection: ## make up on other ports (29092/28081), then make provision and make down with no settings use them
	bash infra/check-connection.sh

clean: down ## Stop everything and delete broker and registry data (keeps downloaded jars)
	rm -rf .infra/kafka/data .infra/kafka/*.log .infra/registry/data coverage

.PHONY: help chromium deps up down build provision processor query history gate gateway bench chaos typecheck types unit int test demo check-lifecycle check-connection clean
