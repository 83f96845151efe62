# CNN Studio. `make run` serves the app, `make test` runs the tests; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Real data beside the checkout (see README): used when present and not overridden.
SHARED_DATA := $(abspath ../shared/datasets)
ifneq ($(wildcard $(SHARED_DATA)/mnist.npz),)
export CNN_STUDIO_DATA_DIR ?= $(SHARED_DATA)
endif
PORT ?= 8501

.PHONY: run test bench venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: venv
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: venv
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python -m bench --readme

clean:
	rm -rf $(VENV) runs .pytest_cache bench/results.json test-artifacts
