# Fuzhengtong (阜政通) — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
STAGE  ?= prod
TEST_WORKERS ?= 2
export PYTHONPATH := $(CURDIR)

.PHONY: run test unit integration e2e bench package deploy lint fmt clean console audit-query audit-verify

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed ## start the whole system on 127.0.0.1:$(PORT)
	$(PY) -m chalicelib.local.run --port $(PORT)

.PHONY: reset
reset: ## forget the local stack's data (var/state, var/exports): the next `make run` starts clean; refused while it runs
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m chalicelib.local.state reset

test: $(VENV)/.installed ## the whole suite: unit, integration, e2e (two workers; a stack per test module)
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests

unit: $(VENV)/.installed
	$(PY) -m pytest -q tests/unit

integration: $(VENV)/.installed
	$(PY) -m pytest -q tests/integration

e2e: $(VENV)/.installed
	$(PY) -m pytest -q tests/e2e

bench: $(VENV)/.installed ## print the figures (ratios against baselines measured in the same run)
	$(PY) -m bench

.PHONY: demo
demo: $(VENV)/.installed ## fill the local stack (var/state) with the generated city's last month; not while `make run` runs
	$(PY) -m bench.city --days 30 --scale $${FZT_DEMO_SCALE:-0.25} --stack

console: ## rebuild the operator console: console/ (TypeScript, Chart.js) → chalicelib/console/static/ (committed)
	cd console && npm ci --no-audit --no-fund && npm run check && npm run build

.PHONY: mobile
mobile: ## rebuild the citizen entrance: mobile/ (TypeScript) → chalicelib/mobile/static/ (committed)
	cd mobile && npm ci --no-audit --no-fund && npm run check && npm run build

lint: $(VENV)/.installed ## ruff, and mypy over chalicelib/ (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

package: $(VENV)/.installed ## chalice package + merged infra template, ready for CloudFormation
	$(PY) -m infra.package --stage $(STAGE) --out build/package

deploy: package ## put the same code on AWS (needs AWS credentials and an S3 bucket for artifacts)
	aws cloudformation package --template-file build/package/sam.json \
	  --s3-bucket $${FZT_ARTIFACT_BUCKET:?set FZT_ARTIFACT_BUCKET} --output-template-file build/package/packaged.yaml
	aws cloudformation deploy --template-file build/package/packaged.yaml --stack-name fzt-$(STAGE) \
	  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides Stage=$(STAGE) DataKey=$${FZT_DATA_KEY:?} PhoneKey=$${FZT_PHONE_KEY:?} \
	  ConsoleUrl=$${FZT_CONSOLE_URL:-} OidcIssuer=$${FZT_OIDC_ISSUER:-} OidcAudience=$${FZT_OIDC_AUDIENCE:-} \
	  OidcAuthorizeUrl=$${FZT_OIDC_AUTHORIZE_URL:-} OidcTokenUrl=$${FZT_OIDC_TOKEN_URL:-} OidcLogoutUrl=$${FZT_OIDC_LOGOUT_URL:-}

audit-query: $(VENV)/.installed ## DuckDB over the local export folder: make audit-query SQL="SELECT …"
	$(PY) -m chalicelib.audit query "$(SQL)"

audit-verify: $(VENV)/.installed ## recompute every petition's hash chain from the local export
	$(PY) -m chalicelib.audit verify

clean:
	rm -rf build var .pytest_cache
