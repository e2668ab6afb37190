# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) setup.py requirements.txt
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n auto tests

demo: $(STAMP)
	$(PY) tools/demo.py --workdir demo_data

clean:
	rm -rf demo_data .pytest_cache
