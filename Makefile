# shocpp: `make run` starts the listener, `make test` runs the tests. Both set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test deps websocketd clean

run: deps websocketd
	bin/shocpp-listener

test: deps websocketd
	$(PY) -m pytest -q

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

websocketd:
	@command -v websocketd >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing websocketd (Debian package)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq websocketd >/dev/null; \
	  else \
	    echo "websocketd is missing: install the Debian package as root: sudo apt-get install websocketd" >&2; exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) run log .pytest_cache .hypothesis
