# `make demo` and `make test` build .venv/ first when it is missing.
# mmcv 2.1.0 has no wheel for torch 2.13 and must be compiled with its ops
# (about 12 minutes on 2 cores; pip caches the wheel). Its setup.py imports
# pkg_resources (setuptools < 70) while torch 2.13 declares setuptools >= 77,
# hence the two setuptools steps; MMEngine's `mmseg::` config inheritance
# still imports pkg_resources, which setuptools 81 removed. GPU users: install the CUDA build of
# torch 2.13.0 into .venv first and run `FORCE_CUDA=1 make env` with nvcc on
# PATH to build mmcv's CUDA ops.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: env demo test clean

env: $(STAMP)

$(STAMP): setup.py requirements/runtime.txt requirements/tests.txt \
		requirements/deploy.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install torch==2.13.0 mmengine==0.10.7 wheel ninja
	$(PIP) install "setuptools<70"
	MMCV_WITH_OPS=1 MAX_JOBS=$${MAX_JOBS:-2} $(PIP) install --no-build-isolation mmcv==2.1.0
	$(PIP) install "setuptools>=77.0.3,<81"
	$(PIP) install -e ".[tests,deploy]"
	touch $@

demo: env
	$(PY) demo/train_demo.py

test: env
	$(PY) -m pytest $(PYTEST_ARGS) tests

clean:
	rm -rf $(VENV) work_dirs
