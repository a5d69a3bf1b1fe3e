# Attune: `make run` and `make test` do all set-up on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app coach
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-unit test-e2e lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Debian's Chromium for the browser tests (never `playwright install`: it downloads its own build).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

# Invite links and notification targets point at the address the dev server listens on.
run: export COACH_BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.installed
	$(FLASK) init-db
	@echo
	@echo "Attune is starting at http://$(HOST):$(PORT)/"
	@echo "First admin:   $(FLASK) create-user --email you@example.org --password '<10+ chars>' --role admin"
	@echo "A worker:      $(FLASK) create-user --email worker@example.org --password '<10+ chars>' --role worker"
	@echo "Invite a family: $(FLASK) invite --worker worker@example.org"
	@echo "Demo data:     $(BIN)/python scripts/demo_data.py   (prints its sign-ins)"
	@echo "Another port:  make run PORT=8080 (HOST=0.0.0.0 for every interface)"
	@echo "Email alerts:  set COACH_SMTP_URL (README \"Help and alerts\"), then $(FLASK) send-test-email --to you@example.org"
	@echo
	@bash scripts/run-dev.sh "$(BIN)" "$(HOST)" "$(PORT)"

test: $(VENV)/.installed-dev $(CHROMIUM)
	$(BIN)/python -m pytest

test-unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not e2e"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check coach tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
