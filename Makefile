# Every target does its own set-up: a fresh clone needs only python3 (and root or sudo for apt).
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: test lint typecheck mirror demo system-deps screenshots bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 'setuptools>=77'
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Browser and Redis server for the browser and Redis tests (Debian packages; Playwright's own
# Chromium is the fallback where apt is not available).
system-deps: $(STAMP)
	./scripts/install-system-deps.sh $(PY)

# mypy and import-linter resolve modules from folders, so they read a mirror laid out as the
# installed package.
mirror:
	@rm -rf build/typecheck && mkdir -p build/typecheck/etalage
	@for f in sdk/*.py sdk/py.typed; do ln -s ../../../$$f build/typecheck/etalage/; done
	@ln -s ../../../sdk/cli build/typecheck/etalage/cli
	@ln -s ../../../rules build/typecheck/etalage/rules
	@ln -s ../../../middleware build/typecheck/etalage/middleware
	@ln -s ../../../demo_site build/typecheck/etalage/demo

# ruff, then the layer contract of pyproject.toml ([tool.importlinter]).
lint: $(STAMP) mirror
	$(VENV)/bin/ruff check sdk middleware rules demo_site tests benchmarks scripts examples
	cd build/typecheck && ../../$(VENV)/bin/lint-imports ../../pyproject.toml

typecheck: $(STAMP) mirror
	cd build/typecheck && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml -p etalage

test: system-deps lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/etalage demo

screenshots: system-deps
	$(PY) scripts/screenshots.py docs/screenshots

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/rules_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
