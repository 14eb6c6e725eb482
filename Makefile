# Two commands do everything: `make course` (run the course) and `make test` (run every test).
# Both create .venv and install the project on first use; afterwards they only reinstall when
# pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install course test test-fast test-portability lab explorer html bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[dev,tools,transformer,llm]"
	touch $(STAMP)

course: install
	$(BIN)/python -m tools.run_course

# Tests run in one process per core (at most four), each with its share of PyTorch's threads
# (conftest.py); a whole file or notebook goes to one worker, the longest first.
# TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min(4, os.cpu_count() or 1))")
PARALLEL := $(if $(filter 0 1,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
PYTEST := $(BIN)/python -m pytest $(PARALLEL) --durations=15

test: install
	$(PYTEST)

# The quick loop between edits: unit tests and the checks of the stored notebooks, no notebook
# executed, no browser.
test-fast: install
	$(PYTEST) -o addopts="-ra -p no:cacheprovider" -p no:nbval -m "not browser" tests

# The notebooks that compute trained numbers again on another kernel path (PyTorch without
# vector instructions), with the base models retrained in a fresh artifacts folder: trained
# numbers move, and every check must hold. A notebook without a trained-output cell computes
# nothing a kernel path can change; `make test` has run it.
test-portability: install
	artifacts=$$(mktemp -d) && ATEN_CPU_CAPABILITY=default COURSE_ARTIFACTS_DIR=$$artifacts \
		$(PYTEST) --trained-notebooks-only notebooks/; status=$$?; rm -rf $$artifacts; \
		exit $$status

lab: install
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# The rank explorer of notebook 04 as a page without code (for a classroom projector), served by
# Voilà on 127.0.0.1; it prints the address. A missing base model is trained first, with a
# progress bar (`.venv/bin/python -m tools.explorer --no-train` stops instead).
explorer: install
	$(BIN)/python -m tools.explorer

bench: install
	$(BIN)/python -m benchmarks.run

# The course as a website (book/conf.py): the stored notebooks, never executed, in build/html/.
html: install
	$(BIN)/sphinx-build -b html -q -W --keep-going -c book . build/html
	@echo "open build/html/index.html"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf build artifacts data/torchvision
