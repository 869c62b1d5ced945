# The two commands: `make run` and `make test`. Everything else is a helper.
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  ?= python3
HOST    ?= 127.0.0.1
PORT    ?= 5000
export HELPDESK_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test lint docs bench clean translations

# Bundled plugins are packages of their own, installed like any third-party plugin.
BUNDLED := $(patsubst %/pyproject.toml,-e ./%,$(wildcard plugins/*/pyproject.toml))

# constraints.txt pins what the tests last passed with: new releases change nothing unseen.
$(BIN)/.installed: setup.cfg pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e . $(BUNDLED)
	$(BIN)/pybabel -q compile -d helpdesk/translations
	touch $@

$(BIN)/.test-installed: $(BIN)/.installed examples/hello_plugin/pyproject.toml
	$(BIN)/pip install -q -c constraints.txt -e '.[test]' -e ./examples/hello_plugin
	touch $@

run: $(BIN)/.installed
	@$(BIN)/helpdesk init --demo
	@echo "  Helpdesk: http://$(HOST):$(PORT)/  (worker running alongside; Ctrl-C stops both)"
	@# Both processes build links in mail: without EXTERNAL_URL configured, they point here.
	@trap 'kill 0' INT TERM EXIT; export HELPDESK_SERVED_URL=http://$(HOST):$(PORT); \
	  $(BIN)/helpdesk worker >$(HELPDESK_INSTANCE_PATH)/worker.log 2>&1 & \
	  $(BIN)/helpdesk run --host $(HOST) --port $(PORT)

lint: $(BIN)/.test-installed
	$(BIN)/ruff check helpdesk tests bench docs examples plugins
	$(BIN)/mypy

docs: $(BIN)/.test-installed
	$(BIN)/python docs/gen_hooks.py
	$(BIN)/python docs/gen_api.py

test: $(BIN)/.test-installed
	$(BIN)/ruff check helpdesk tests bench docs examples plugins
	$(BIN)/mypy
	$(BIN)/python docs/gen_hooks.py --check
	$(BIN)/python docs/gen_api.py --check
	@test -x /usr/bin/chromium || echo "\n*** /usr/bin/chromium is missing: BROWSER TESTS WILL BE SKIPPED (apt-get install chromium) ***\n"
	bash tests/run_engines.sh $(BIN)/python

# Languages: extract the customer-facing strings (babel.cfg), merge them into every
# catalogue, compile the .mo files (committed too, so a clean clone works without make).
# New language: $(BIN)/pybabel init -i helpdesk/translations/messages.pot -d helpdesk/translations -l xx
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 --sort-by-file --project=Helpdesk \
	  -o helpdesk/translations/messages.pot .
	$(BIN)/pybabel update -i helpdesk/translations/messages.pot -d helpdesk/translations --no-fuzzy-matching -w 100
	$(BIN)/pybabel compile -d helpdesk/translations
	@# Plugins ship their own catalogues (plugins/<name>/babel.cfg → helpdesk_<name>/translations),
	@# merged with the core's at start-up; a new language: pybabel init in that folder as above.
	@# A plugin with only messages.pot (English for now) gets its template refreshed, nothing to compile.
	@for cfg in $(wildcard plugins/*/babel.cfg); do \
	  dir=$$(dirname $$cfg); out=$$dir/helpdesk_$$(basename $$dir)/translations; \
	  $(BIN)/pybabel -q extract -F $$cfg -k lazy_gettext -k lazy_pgettext:1c,2 --sort-by-file --project=Helpdesk \
	    -o $$out/messages.pot $$dir || exit 1; \
	  if ls $$out/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	    $(BIN)/pybabel update -i $$out/messages.pot -d $$out --no-fuzzy-matching -w 100 || exit 1; \
	    $(BIN)/pybabel compile -d $$out || exit 1; \
	  fi; \
	done

bench: $(BIN)/.test-installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
