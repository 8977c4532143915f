# shocpp: `make run` starts the listener, `make test` runs the tests, `make bench` the benchmarks
# (results in bench/RESULTS.md). All set up what they need.
# `make install PREFIX=/opt/shocpp` installs it to run as a service (see misc/shocpp.service).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench demo deps websocketd openssl clean install

run: deps websocketd
	bin/shocpp-listener

demo: deps websocketd
	$(PY) -m shocpp_sim.demo

test: deps websocketd openssl
	$(PY) -m pytest -q

# About 20 minutes on 2 cores; `$(PY) -m bench --help` tells how to run parts.
bench: deps websocketd
	$(PY) -m bench

deps: $(VENV)/.installed

# The dependencies only: bin/ and the tests find shocpp/ in this tree.
$(VENV)/.installed: pyproject.toml misc/requirements.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) misc/requirements.py test sim > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements.txt
	touch $@

websocketd:
	@command -v websocketd >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing websocketd (Debian package)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq websocketd >/dev/null; \
	  else \
	    echo "websocketd is missing: install the Debian package as root: sudo apt-get install websocketd" >&2; exit 1; \
	  fi; }

# The TLS tests make a self-signed certificate with it.
openssl:
	@command -v openssl >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; \
	  else \
	    echo "openssl is missing: sudo apt-get install openssl" >&2; exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) run log .pytest_cache .hypothesis

# The install: the tree under PREFIX with its own .venv holding only the runtime dependencies (those
# of pyproject.toml); the bin/ wrappers run PREFIX/.venv/bin/python with PYTHONPATH=PREFIX. Safe to
# repeat (an upgrade): bin/, shocpp/ and misc/ are replaced, conf/ files that exist are kept, and
# accounting/, run/ and log/ are only created. Root is needed only when PREFIX is not writable.
PREFIX ?= /opt/shocpp
# A Python outside any home directory: the service runs with ProtectHome=yes.
INSTALL_PYTHON ?= $(PYTHON)

install:
	@case "$(PREFIX)" in /?*) ;; *) echo "PREFIX must be an absolute path, not '$(PREFIX)'" >&2; exit 2;; esac
	install -d -m 755 "$(PREFIX)" "$(PREFIX)/conf"
	rm -rf "$(PREFIX)/bin" "$(PREFIX)/shocpp" "$(PREFIX)/misc"
	cp -R bin shocpp misc "$(PREFIX)/"
	find "$(PREFIX)/shocpp" -name __pycache__ -prune -exec rm -rf {} +
	for f in misc/*; do sed 's|/opt/shocpp|$(PREFIX)|g' "$$f" > "$(PREFIX)/$$f"; done
	install -m 644 README.md pyproject.toml "$(PREFIX)/"
	@for f in conf/*; do \
	  if [ -e "$(PREFIX)/$$f" ]; then echo "kept $(PREFIX)/$$f (not overwritten)"; \
	  else install -m 640 "$$f" "$(PREFIX)/$$f"; fi; done
	[ -d "$(PREFIX)/accounting" ] || install -d -m 750 "$(PREFIX)/accounting"
	[ -d "$(PREFIX)/run" ] || install -d -m 770 "$(PREFIX)/run"
	[ -d "$(PREFIX)/log" ] || install -d -m 750 "$(PREFIX)/log"
	[ -x "$(PREFIX)/.venv/bin/python" ] || $(INSTALL_PYTHON) -m venv "$(PREFIX)/.venv"
	"$(PREFIX)/.venv/bin/python" misc/requirements.py > "$(PREFIX)/.venv/requirements.txt"
	"$(PREFIX)/.venv/bin/python" -m pip install --quiet -r "$(PREFIX)/.venv/requirements.txt"
	"$(PREFIX)/.venv/bin/python" -m compileall -q "$(PREFIX)/shocpp"
	@echo "installed in $(PREFIX); as a service: see 'Running as a service' in $(PREFIX)/README.md"
