# minigrad: every set-up step lives here, so a fresh clone needs only Python 3 and make.
#   make test        create .venv, install minigrad with its test extras, run every test
#   make notebooks   execute every chapter notebook (full mode), write executed copies + figures
#   make bench       kernel, overhead and training-step benchmarks (GPU columns where a GPU exists)
#   make lab         open your own copies of the chapters (notebooks/mine/) in JupyterLab;
#                    LAB_ARGS passes flags to it, e.g. make lab LAB_ARGS="--no-browser --port 8899"
#   make lint        ruff
#   make conformance PyTorch's own OpInfo/ModuleInfo inputs run on minigrad (installs the
#                    torch extra): writes benchmarks/results/conformance.{md,json}
# EXTRAS picks the optional dependency groups; add "torch" for the PyTorch comparison tests
# (pinned torch==2.13.0, CPU build) and "dist" for the mpiexec tests (mpi4py + MPICH):
# make test EXTRAS=dev,torch,dist (what .ci/run does)
# and "dist" for data-parallel training on MPI (mpi4py, mpich): make test EXTRAS=dev,torch,dist

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
comma  := ,
EXTRAS ?= dev
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
PYTEST_ARGS ?=
LAB_ARGS ?=
# JupyterLab refuses to start as root unless told that it is meant
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: test notebooks bench lab lint conformance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(BIN)/python notebooks/run_all.py --mode full --out notebooks/executed

bench: $(STAMP)
	$(BIN)/python benchmarks/kernels.py
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/train_step.py

lab: | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	$(BIN)/python notebooks/run_all.py --copy-to notebooks/mine
	PYTHONPATH=$(CURDIR)/notebooks $(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS) notebooks/mine

conformance:
	$(MAKE) --no-print-directory $(VENV)/.installed-dev-torch EXTRAS=dev,torch
	$(BIN)/python benchmarks/conformance.py

lint: $(STAMP)
	$(BIN)/ruff check minigrad kernels tests benchmarks notebooks/*.py notebooks/exercises
	$(BIN)/python notebooks/run_all.py --check-stripped

clean:
	rm -rf $(VENV) notebooks/executed notebooks/figures .pytest_cache .hypothesis
