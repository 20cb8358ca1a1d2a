# Sluis: `make run` starts a demo gateway, `make test` runs every check CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := var/demo
DEMO_ENV := SLUIS_DATA_DIR=$(DEMO) SLUIS_KEY_DIR=$(DEMO)/keys SLUIS_POLICY_DIR=policies
# The Dutch API Design Rules linter (standards/README.md); npm caches in the project.
SPECTRAL := @stoplight/spectral-cli@6.16.3
RULESET  := standards/nl-api-design-rules.spectral.yml
OPENAPI  := build/openapi.json
NPM_ENV  := npm_config_cache=$(CURDIR)/.npm-cache npm_config_update_notifier=false npm_config_fund=false
# Browser tests: Debian's chromium (driven by Playwright) and axe-core, installed at test time.
AXE      := axe-core@4.10.3
AXE_DIR  := build/axe
AXE_JS   := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: run demo test lint typecheck apilint unit install clean bench audit browser-deps screenshots

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	@test -f $(DEMO)/keys/db.key || $(DEMO_ENV) $(BIN)/gateway init
	@test -f $(DEMO)/keys/console-session.key || $(DEMO_ENV) $(BIN)/gateway init --console-key
	@$(DEMO_ENV) $(BIN)/gateway demo setup --partners-dir $(DEMO)/partners
	@echo ""
	@# The scheduler runs as its own process beside the web server and stops with it.
	$(DEMO_ENV) $(BIN)/gateway scheduler > $(DEMO)/scheduler.log 2>&1 & trap 'kill $$!' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/gateway serve --hint "Demo:     make demo   (in a second terminal: partners exchange a case)"

# The scripted walk through the covenant, against the gateway `make run` started.
demo: $(STAMP)
	@$(DEMO_ENV) $(BIN)/gateway demo exchange --partners-dir $(DEMO)/partners

lint: $(STAMP)
	$(BIN)/ruff check gateway tests benchmarks wsgi.py

typecheck: $(STAMP)
	$(BIN)/mypy gateway

apilint: $(STAMP)
	@command -v npx >/dev/null || { echo "npx not found: installing nodejs and npm (apt-get, needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; }
	$(BIN)/gateway openapi --out $(OPENAPI)
	$(NPM_ENV) npx --yes $(SPECTRAL) lint --fail-severity=error -r $(RULESET) $(OPENAPI)

# Only what is missing is installed; without root the browser tests skip and say why.
browser-deps:
	@command -v chromium >/dev/null || { echo "chromium not found: installing Debian's chromium (apt-get, needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "could not install chromium: the browser tests will be skipped"
	@command -v npm >/dev/null || { echo "npm not found: installing nodejs and npm (apt-get, needs root)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; } \
		|| echo "could not install npm: the axe-core scan will fail"
	@test -f $(AXE_JS) || $(NPM_ENV) npm install --no-save --no-audit --prefix $(AXE_DIR) $(AXE)

unit: $(STAMP) browser-deps
	$(BIN)/python -m pytest --cov --cov-report=term

# PNGs of every console page for the README (fictitious demo data, a throwaway instance).
screenshots: $(STAMP) browser-deps
	$(BIN)/python scripts/console_screenshots.py

test: lint typecheck apilint unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# pip-audit on the exact versions installed in .venv (pinned by `pip freeze`, not committed),
# from a venv of its own so the auditor's dependencies are not audited as Sluis's. It needs a
# vulnerability database over the network (pip-audit's default service, or OSV with `-s osv`);
# a package mirror alone cannot answer, so it is not part of `make test`. --strict: a dependency
# it could not look up fails the audit, never a silent "No known vulnerabilities found".
AUDIT_VENV := .venv-audit
PIP_AUDIT  := pip-audit==2.10.1
LOCK       := build/requirements.lock

audit: $(STAMP)
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && \
		$(AUDIT_VENV)/bin/python -m pip install --quiet '$(PIP_AUDIT)'; }
	@mkdir -p $(dir $(LOCK))
	$(BIN)/python -m pip freeze --exclude-editable > $(LOCK)
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r $(LOCK)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) .pytest_cache .mypy_cache .ruff_cache .coverage *.egg-info $(OPENAPI) .npm-cache
