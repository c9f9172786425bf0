# cohesion-geo: the two commands a newcomer types are `make demo` and `make test`.
# Both create .venv with Python 3.11+ and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test install install-test browser bench clean lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Browser tests use Debian's chromium (never a downloaded browser). Installing it
# needs root and apt; where that fails the browser tests skip and say why.
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian chromium for the browser tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "WARNING: could not install chromium; browser tests will skip"; \
	else echo "WARNING: /usr/bin/chromium missing and apt-get unavailable; browser tests will skip"; fi

demo: $(VENV)/.installed
	$(BIN)/cohesion-geo demo --out $(OUT)

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
