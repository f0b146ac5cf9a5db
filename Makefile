# Two commands do everything: `make build` and `make test` (see README.md).
# Each one installs what it needs first: Debian packages (tools/system-deps),
# the locked Python packages in .venv, and the pinned font files.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)

.PHONY: build test check lint fonts system-build system-test clean

build: system-build $(STAMP) fonts
	$(PY) build.py build

test: system-test $(STAMP) fonts lint
	$(PY) -m pytest

check: $(STAMP)
	$(PY) build.py check

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests build.py benchmarks tools/make-reference-docx

system-build:
	@tools/system-deps build

system-test:
	@tools/system-deps test

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

# Font files come from the pinned Debian package and are checked against the
# SHA-256 sums in fonts/SHA256SUMS, so a changed font is a reviewed event.
fonts: system-build
	@tools/install-fonts

clean:
	rm -rf output .pytest_cache
