# Front door. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash
PY_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENS ?= 50
DEMO ?= 1
API_PORT ?= 8000
MQTT_PORT ?= 8883
PYTEST_ARGS ?=

.PHONY: setup system-packages test-tools test unit integration e2e run bench soak profile mutate docs lint fmt infra clean
.PHONY: images docker-stop test-containers compose-check dashboard openadr3-client

setup: $(STAMP) system-packages dashboard openadr3-client

$(STAMP): pyproject.toml
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); $(PY_BOOT) -m venv $(VENV); } \
	  || { rm -rf $(VENV); $(call apt_install,python3-venv) && $(PY_BOOT) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# From the distribution, installed only when missing (and only as root): Mosquitto, the
# PostgreSQL server binaries, and gcc with Mosquitto's plugin headers (dr_infra.broker_plugin).
# Found like dr_infra finds them: $DR_MOSQUITTO_BIN / PATH / sbin,
# $DR_PG_BINDIR / pg_config --bindir / /usr/lib/postgresql.
define apt_install
{ if [ "$$(id -u)" != 0 ]; then echo "missing: run 'sudo apt-get install $(1)'" >&2; exit 1; fi; \
  echo "installing $(1) (apt-get)"; \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null 2>&1 || \
  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null; }; }
endef

system-packages:
	@test -x "$${DR_MOSQUITTO_BIN:-/nonexistent}" || command -v mosquitto >/dev/null \
	  || test -x /usr/sbin/mosquitto || test -x /usr/local/sbin/mosquitto || $(call apt_install,mosquitto)
	@test -x "$${DR_PG_BINDIR:-/nonexistent}/initdb" || test -x "$$(pg_config --bindir 2>/dev/null)/initdb" \
	  || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(call apt_install,postgresql)
	@{ command -v gcc >/dev/null && test -f /usr/include/mosquitto_broker.h && test -f /usr/include/mosquitto.h; } \
	  || $(call apt_install,gcc libc6-dev mosquitto-dev libmosquitto-dev)

# The operator dashboard (services/api/dashboard; docs/dashboard.md): TypeScript bundled by esbuild
# into the api package, which serves it at /dashboard/. npm packages from its lock file only;
# Node.js from the distribution when missing (Debian 12's 18 is enough).
DASHBOARD_SRC := services/api/dashboard
DASHBOARD := services/api/api/static/dashboard/index.html
dashboard: $(DASHBOARD)

$(DASHBOARD): $(DASHBOARD_SRC)/node_modules/.installed $(DASHBOARD_SRC)/build.mjs $(DASHBOARD_SRC)/tsconfig.json \
    $(wildcard $(DASHBOARD_SRC)/src/*.ts $(DASHBOARD_SRC)/src/*/*.ts $(DASHBOARD_SRC)/src/*.css $(DASHBOARD_SRC)/static/*)
	cd $(DASHBOARD_SRC) && npm run --silent build

$(DASHBOARD_SRC)/node_modules/.installed: $(DASHBOARD_SRC)/package-lock.json
	@command -v npm >/dev/null || $(call apt_install,nodejs npm)
	cd $(DASHBOARD_SRC) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The third-party OpenADR 3 client the VTN facade is tested with (scripts in tests/openadr3_client, run
# by tests/fixtures/openadr_client.py) needs Python >= 3.12 while the platform runs 3.11: its own venv,
# pinned by tests/openadr3_client/requirements.txt. Its Python: $OADR_PYTHON, else python3.13/python3.12
# on PATH, else the newest pyenv 3.13/3.12 (pyenv's shims are on PATH but fail outside their version,
# hence each candidate is run).
OADR_PYTHON ?=
OADR_VENV := .venv-openadr3
OADR_PY := $(OADR_VENV)/bin/python
OADR_STAMP := $(OADR_VENV)/.installed
OADR_REQS := tests/openadr3_client/requirements.txt
openadr3-client: $(OADR_STAMP)

define oadr_python
{ is_312() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
  if [ -n "$(OADR_PYTHON)" ]; then is_312 "$(OADR_PYTHON)" && echo "$(OADR_PYTHON)" && exit 0; \
    echo "OADR_PYTHON=$(OADR_PYTHON) is not a Python >= 3.12" >&2; exit 1; fi; \
  for py in python3.13 python3.12 $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[23]\.[0-9]+$$' \
      | sort -rV | while read -r v; do PYENV_VERSION=$$v pyenv which python3 2>/dev/null; done); do \
    is_312 "$$py" && echo "$$py" && exit 0; done; \
  echo "openadr3-client needs Python >= 3.12 for $(OADR_VENV): install Python >= 3.12" \
    "(pyenv install 3.12) or set OADR_PYTHON=/path/to/python3.12" >&2; exit 1; }
endef

$(OADR_STAMP): $(OADR_REQS)
	@$(OADR_PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(OADR_VENV); \
	  py="$$($(oadr_python))" && echo "creating $(OADR_VENV) with $$py" && "$$py" -m venv $(OADR_VENV); }
	$(OADR_PY) -m pip install --quiet --upgrade pip
	$(OADR_PY) -m pip install --quiet -r $(OADR_REQS)
	@touch $(OADR_STAMP)

# Compose's own schema check of deploy/compose.yaml (tests/unit/test_compose.py; no engine
# needed) is part of every green run: installed as root, else named and the run stops.
test-tools:
	@command -v docker-compose >/dev/null || $(call apt_install,docker-compose)
	@command -v chromium >/dev/null || $(call apt_install,chromium)

test: setup test-tools
	$(PY) -m pytest $(PYTEST_ARGS)

unit: setup test-tools
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

integration: setup
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

e2e: setup
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

run: setup
	$(PY) -m dr_infra.run --vens $(VENS) --demo $(DEMO) --api-port $(API_PORT) --mqtt-port $(MQTT_PORT)

infra: setup
	$(PY) -m dr_infra up

bench: setup
	$(PY) -m bench

# py-spy flame graphs of the bridge and the projector under load (.bench/profile/).
profile: setup
	$(PY) -m bench.profile

# Not in CI: SOAK_MIN minutes (default 30) of 10,000 simulated VENs and an event every 5 minutes.
SOAK_MIN ?= 30
soak: setup
	$(PY) -m bench.soak --minutes $(SOAK_MIN)

# Containers (docs/operations.md): local images built with nothing pulled, a private dockerd
# started (as root) when no engine answers; `make docker-stop` stops that dockerd.
DOCKER_ENV = $(if $(DOCKER_HOST),,DOCKER_HOST="$$($(PY) -m dr_infra.images docker-host)")
images: setup
	$(PY) -m dr_infra.images build

docker-stop: setup
	$(PY) -m dr_infra.images stop

# The integration layer with every broker and database started by testcontainers from those images.
test-containers: images
	$(DOCKER_ENV) DR_TEST_INFRA=containers $(PY) -m pytest -m integration $(PYTEST_ARGS) \
	  tests/integration/api tests/integration/dispatcher tests/integration/ingest tests/integration/ven_sim

# The compose stack scaled out, with containers killed mid-event (dr_infra.compose_check).
compose-check: images
	$(DOCKER_ENV) $(PY) -m dr_infra.compose_check

# Mutation testing of the domain and SQL rules (docs/mutation.md); MODULES="api.domain ..." for a subset,
# MODULES=text for the SQL text mutants only (the five of issue 13 and their neighbours).
MODULES ?=
mutate: setup
	$(PY) -m tests.mutation $(MODULES)

# docs/asyncapi.yaml regenerated from the code (dr_infra.asyncapi), and a static offline page with the
# AsyncAPI viewer: docs/site/index.html (open the printed file:// path; no server, no CDN). The viewer
# bundle comes from npm once, pinned by docs/viewer/package-lock.json.
VIEWER := docs/viewer/node_modules/@asyncapi/react-component
docs: $(STAMP) $(VIEWER)
	$(PY) -m dr_infra asyncapi --site docs/site

$(VIEWER): docs/viewer/package-lock.json
	cd docs/viewer && npm ci --no-audit --no-fund
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs services bench

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(OADR_VENV) .run .bench .mutmut .pytest_cache .mypy_cache .ruff_cache services/api/api/static $(DASHBOARD_SRC)/node_modules
