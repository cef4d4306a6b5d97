# Everything a developer or CI needs; `make dev` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
PYTEST_WORKERS ?= 2

.PHONY: chromium e2e screenshots dev test lint typecheck unit bench routes seed job jobs outbox create-admin deploy verify-deploy replay reconcile clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 packages with pip below 26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

dev: $(STAMP) ## API at http://127.0.0.1:$${PORT:-8000}/api/v1 on embedded DynamoDB with seed data
	$(BIN)/python -m local_stack.server

test: $(STAMP) chromium lint typecheck ## ruff, mypy and the whole pytest suite against moto (browser tests in Chromium)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

e2e: $(STAMP) chromium ## only the browser tests (real Chromium against the app on moto); `make test` runs them too
	$(BIN)/python -m pytest tests/browser

screenshots: $(STAMP) chromium ## retake docs/console/*.png from the browser tests
	CONSOLE_SCREENSHOTS=docs/console $(BIN)/python -m pytest tests/browser -p no:randomly

chromium: ## Debian's chromium for the browser tests, installed when missing
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

routes: $(STAMP) ## regenerate chalicelib/route_index.py after adding or changing a route
	$(BIN)/python -m infra.route_index

bench: $(STAMP) ## DynamoDB operations and capacity units per endpoint, at several history sizes
	$(BIN)/python -m benchmarks.run

seed: $(STAMP) ## load seed data into DYNAMODB_ENDPOINT_URL (default: the running `make dev`)
	$(BIN)/python -m local_stack.seed

jobs: $(STAMP)
	$(BIN)/python -m local_stack.jobs --list

job: $(STAMP) ## run one scheduled job against the local stack: make job NAME=...
	$(BIN)/python -m local_stack.jobs $(NAME)

outbox: ## emails the local stack "sent"
	@cat .local/outbox.jsonl 2>/dev/null || echo "(no mail yet)"

create-admin: $(STAMP) ## first admin of a deployed stage: make create-admin EMAIL=... (needs AWS credentials)
	$(BIN)/python -m chalicelib.accounts.cli create-admin --email $(EMAIL)

deploy: $(STAMP) ## make deploy STAGE=dev|staging|prod (needs AWS credentials); fails if any setting differs
	aws cloudformation deploy --stack-name openmrcs-$(STAGE) --template-file infra/template.json \
		--parameter-overrides Stage=$(STAGE)
	$(BIN)/python -m infra.bytecode deploy --stage $(STAGE)  # chalice deploy, packages with compiled bytecode
	$(BIN)/python -m infra.post_deploy --stage $(STAGE)

verify-deploy: $(STAMP) ## check a deployed stage's stream mapping against infra/: make verify-deploy STAGE=...
	$(BIN)/python -m infra.post_deploy --stage $(STAGE) --verify

STAGE_ENV = TABLE_NAME=openmrcs-$(STAGE) STAGE=$(STAGE) JWT_SECRET_ID=openmrcs/$(STAGE)/jwt-signing-secret

replay: $(STAMP) ## re-deliver the stream failure queue's ranges: make replay STAGE=... QUEUE_URL=...
	$(STAGE_ENV) $(BIN)/python -m chalicelib.analytics.cli replay --queue-url $(QUEUE_URL)

reconcile: $(STAMP) ## recompute a learner from the raw answers: make reconcile STAGE=... USER_ID=... (or ACTIVE=1)
	$(STAGE_ENV) $(BIN)/python -m chalicelib.analytics.cli reconcile $(if $(ACTIVE),--active,--user $(USER_ID))

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
