# Two commands do everything: `make build` and `make test` (see README.md).
# Each one installs what it needs first: Debian packages (tools/system-deps),
# the locked Python packages in .venv with Briefing itself installed into it
# (editable, so the console script `briefing` runs this checkout), and the
# pinned font files.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# One stamp per lock file, with pyproject.toml and the installer's lock: a
# change to any of them reinstalls.
INSTALLER := requirements-installer.lock
digest  = $(shell cat $(1) pyproject.toml $(INSTALLER) | sha256sum | cut -c1-12)
RUNTIME := $(VENV)/.installed-runtime-$(call digest,requirements.lock)
TESTING := $(VENV)/.installed-test-$(call digest,requirements-test.lock)

# axe-core for the browser tests, from the npm registry, pinned with its
# integrity hash in tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: build test check lint fonts system-build system-test clean venv

build: system-build $(RUNTIME) fonts
	$(PY) build.py build

test: system-test $(TESTING) fonts lint $(AXE)
	$(PY) -m pytest

check: $(RUNTIME) fonts
	$(PY) build.py check

lint: $(TESTING)
	$(VENV)/bin/ruff check src tests build.py benchmarks tools/make-reference-docx

system-build:
	@tools/system-deps build

system-test:
	@tools/system-deps test

# The test lock is the runtime lock plus the test tools, so either stamp
# means a working Briefing; `make test` after `make build` adds the tools.
$(RUNTIME): requirements.lock pyproject.toml $(INSTALLER)
	@$(MAKE) --no-print-directory venv LOCK=requirements.lock KIND=runtime STAMP=$@

$(TESTING): requirements-test.lock pyproject.toml $(INSTALLER)
	@$(MAKE) --no-print-directory venv LOCK=requirements-test.lock KIND=test STAMP=$@

# pip installs the installer (uv, hash-checked: $(INSTALLER) says why), and
# uv installs the lock, every wheel checked against its hash. uv reads no pip
# configuration: an index given to pip in the environment is given to it too.
# Where uv cannot do the job, pip does it, as it did before uv (slower).
ifdef PIP_INDEX_URL
export UV_DEFAULT_INDEX ?= $(PIP_INDEX_URL)
endif
UV  := $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps
PIP := $(PY) -m pip install --quiet --no-deps
venv:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PIP) --require-hashes -r $(INSTALLER) && \
	    $(UV) --require-hashes --compile-bytecode -r $(LOCK) && \
	    $(UV) --no-build-isolation --editable .; then :; else \
	  echo "make: uv could not be installed or could not install $(LOCK) (see above);" \
	    "pip installs it instead"; \
	  $(PIP) --require-hashes -r $(LOCK) && \
	  $(PIP) --no-build-isolation --editable .; fi
	rm -f $(VENV)/.installed-$(KIND)-*
	touch $(STAMP)

$(AXE): tests/browser/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix tests/browser
	touch $@

# Font files come from the pinned Debian package and are checked against the
# SHA-256 sums in fonts/SHA256SUMS, so a changed font is a reviewed event.
fonts: system-build
	@tools/install-fonts

# Never the archive: editions live in archive/, beside output/, and are kept
# for good (docs/archive.md). Editions from before they moved out of output/
# stop the clean until they are moved; so does any edition (a bag) lying under
# output/, such as one reached through an `archive` link into it. rm -rf
# removes a link itself, never what it points to, and find does not follow
# links, so only what really lies under output/ counts.
clean:
	@if [ ! -L output/archive ] && ls output/archive/*/bagit.txt >/dev/null 2>&1; then \
	  echo 'make clean: output/archive/ holds archive editions; move them first:' \
	       'mv output/archive archive' >&2; exit 1; fi
	@bag="$$(find output -name bagit.txt -print -quit 2>/dev/null)"; if [ -n "$$bag" ]; then \
	  echo "make clean: output/ holds archive editions ($${bag%/bagit.txt});" \
	       'archive/ must be a real folder beside output/: move them there first' >&2; \
	  exit 1; fi
	rm -rf output .pytest_cache
