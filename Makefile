# shocpp: `make run` starts the listener, `make test` runs the tests (`make quick` the fast ones), `make bench`
# the benchmarks
# (results in bench/RESULTS.md). All set up what they need.
# `make install PREFIX=/opt/shocpp` installs it to run as a service (see misc/shocpp.service).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test quick bench demo deps websocketd openssl haproxy chromium mosquitto clean install

run: deps websocketd haproxy
	bin/shocpp-listener

demo: deps websocketd
	$(PY) -m shocpp_sim.demo

# The whole suite: the pure core, the shell and the tools in-process, then the system tests that run
# bin/ as processes, through websocketd, make install and the benchmarks' smoke tests.
test: deps websocketd openssl haproxy chromium mosquitto
	$(PY) -m pytest -q

# The edit loop: the pure core, the shell and the tools in-process, in a few seconds (no processes).
quick: deps
	SHOCPP_QUICK=1 SHOCPP_FUZZ_FRAMES=300 $(PY) -m pytest -q tests/protocol tests/shell tests/tools tests/sim

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

# What the tests need from Debian, installed when missing ($(1): the check, $(2): the packages). Run as
# root it installs them; otherwise it names the command that would.
define debian
	@$(1) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $(2) (Debian packages)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "missing, install as root: sudo apt-get install $(2)" >&2; exit 1; \
	  fi; }
endef

websocketd:
	$(call debian,command -v websocketd >/dev/null,websocketd)

# The TLS tests make a self-signed certificate with it.
openssl:
	$(call debian,command -v openssl >/dev/null,openssl)

# The listener's front (misc/shocpp-front.cfg: OCPP 1.6 and 2.0.1 on one URL), the TLS front
# (misc/shocpp-tls.cfg), the dashboard's front (misc/shocpp-dashboard-front.cfg) and their end-to-end tests.
haproxy:
	$(call debian,{ command -v haproxy || [ -x /usr/sbin/haproxy ]; } >/dev/null,haproxy)

# The statement test prints HTML to PDF and PNG with headless Chromium and reads the PDF with poppler;
# the dashboard test drives headless Chromium over its DevTools protocol (no Selenium, no chromedriver).
chromium:
	$(call debian,{ command -v chromium && command -v pdftotext && command -v pdftoppm; } >/dev/null,chromium poppler-utils)

# The MQTT bridge's tests run a broker of their own on loopback (mosquitto_passwd: its password file).
mosquitto:
	$(call debian,{ { command -v mosquitto || [ -x /usr/sbin/mosquitto ]; } && command -v mosquitto_passwd; } >/dev/null,mosquitto)

clean:
	rm -rf $(VENV) run log .pytest_cache .hypothesis

# The install: the tree under PREFIX with its own .venv holding only the runtime dependencies (those
# of pyproject.toml); the bin/ wrappers run PREFIX/.venv/bin/python with PYTHONPATH=PREFIX. Safe to
# repeat (an upgrade): bin/, shocpp/ and misc/ are replaced, conf/ gets only the missing example files, and
# accounting/, run/ and log/ are only created. Root is needed only when PREFIX is not writable.
PREFIX ?= /opt/shocpp
# conf/: only these example files, and only where the install has none yet. Never what a developer's
# conf/ also holds (a TLS key made by following the README, chargers.json, any *.pem).
EXAMPLE_CONF := conf/tags.json
# The simulator needs websockets, which the install's venv does not have (runtime dependencies only).
NOT_INSTALLED_BIN := shocpp-simulate
# Optional groups of pyproject.toml installed too: mqtt, the client library of the MQTT bridge
# (misc/shocpp-mqtt.service), which the backends and the other tools never import.
INSTALL_EXTRAS ?= mqtt
# A Python outside any home directory: the service runs with ProtectHome=yes. make install refuses one
# in a home directory (pyenv's under /root too) unless ALLOW_HOME_PYTHON=1 (then it only warns).
INSTALL_PYTHON ?= $(PYTHON)
ALLOW_HOME_PYTHON ?=

install:
	@case "$(PREFIX)" in /?*) ;; *) echo "PREFIX must be an absolute path, not '$(PREFIX)'" >&2; exit 2;; esac
	@if [ -x "$(PREFIX)/.venv/bin/python" ]; then "$(PREFIX)/.venv/bin/python" misc/install_python.py \
	  "$(PREFIX)/.venv" $(if $(ALLOW_HOME_PYTHON),--allow-home); \
	else $(INSTALL_PYTHON) misc/install_python.py "INSTALL_PYTHON=$(INSTALL_PYTHON)" $(if $(ALLOW_HOME_PYTHON),--allow-home); fi
	install -d -m 755 "$(PREFIX)" "$(PREFIX)/conf"
	rm -rf "$(PREFIX)/bin" "$(PREFIX)/shocpp" "$(PREFIX)/misc"
	cp -R bin shocpp misc "$(PREFIX)/"
	rm -f $(addprefix "$(PREFIX)/bin/",$(NOT_INSTALLED_BIN))
	find "$(PREFIX)/shocpp" -name __pycache__ -prune -exec rm -rf {} +
	for f in misc/*; do sed 's|/opt/shocpp|$(PREFIX)|g' "$$f" > "$(PREFIX)/$$f"; done
	install -m 644 README.md pyproject.toml "$(PREFIX)/"
	@for f in $(EXAMPLE_CONF); do \
	  if [ -e "$(PREFIX)/$$f" ]; then echo "kept $(PREFIX)/$$f (not overwritten)"; \
	  else install -m 640 "$$f" "$(PREFIX)/$$f"; \
	    echo "installed the example $(PREFIX)/$$f: replace its accounts and tags with your own"; fi; done
	[ -d "$(PREFIX)/accounting" ] || install -d -m 750 "$(PREFIX)/accounting"
	[ -d "$(PREFIX)/run" ] || install -d -m 1770 "$(PREFIX)/run"
	[ -d "$(PREFIX)/log" ] || install -d -m 750 "$(PREFIX)/log"
	[ -d "$(PREFIX)/statements" ] || install -d -m 750 "$(PREFIX)/statements"
	[ -x "$(PREFIX)/.venv/bin/python" ] || $(INSTALL_PYTHON) -m venv "$(PREFIX)/.venv"
	"$(PREFIX)/.venv/bin/python" misc/requirements.py $(INSTALL_EXTRAS) > "$(PREFIX)/.venv/requirements.txt"
	"$(PREFIX)/.venv/bin/python" -m pip install --quiet -r "$(PREFIX)/.venv/requirements.txt"
	"$(PREFIX)/.venv/bin/python" -m compileall -q "$(PREFIX)/shocpp"
	@echo "installed in $(PREFIX); as a service: see 'Running as a service' in $(PREFIX)/README.md"
