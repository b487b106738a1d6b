# The companion's entry points. Each target creates/uses the virtual environment itself.
#   make book        run every notebook at $(PROFILE) (cached results reused) and build the book
#   make test        unit tests, nbval on the notebooks at the smoke profile, and a warnings-as-errors book build
#   make data        put CIFAR-10 and Omniglot under data/ (local archives, else torchvision download)
#   make benchmark   time one search step of both supernets against an eager baseline
# Variables: PROFILE=smoke|cpu|paper (default cpu), DEVICE=auto|cpu|cuda, FORCE=1 recomputes cached runs,
#            SEED=0, ARCHIVES=<folder with the offline dataset archives>.

PYTHON_BASE ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
PROFILE     ?= cpu
DEVICE      ?= auto
FORCE       ?= 0
SEED        ?= 0
ARCHIVES    ?= ../shared/data
NOTEBOOKS   := darts_cifar10 lnas_table1 lnas_curves lamanas_algorithms lamanas_pretrained_stem
BOOK_FLAGS  := --all -W -n --keep-going

.PHONY: venv data mathjax run book book-html test test-lib test-notebooks benchmark clean

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

data: $(STAMP)
	$(PY) -m lib.data.fetch --dataset all --archives $(ARCHIVES)

mathjax: $(STAMP)
	$(PY) tools/fetch_mathjax.py

# Execute each notebook into book/ with papermill; cached run records make this fast.
run: $(STAMP)
	@for nb in $(NOTEBOOKS); do \
	  echo "papermill notebooks/$$nb.ipynb -> book/$$nb.ipynb (profile=$(PROFILE))"; \
	  TQDM_DISABLE=1 $(VENV)/bin/papermill --cwd notebooks notebooks/$$nb.ipynb book/$$nb.ipynb \
	    -p profile $(PROFILE) -p seed $(SEED) -p device $(DEVICE) -p force $(if $(filter 1,$(FORCE)),True,False) \
	    --progress-bar || exit 1; \
	done

book-html: $(STAMP) mathjax
	$(VENV)/bin/jupyter-book build . $(BOOK_FLAGS)

book: run book-html

test-lib: $(STAMP)
	$(PY) -m pytest tests -q

test-notebooks: $(STAMP)
	TQDM_DISABLE=1 COMPANION_RESULTS_DIR=$$(mktemp -d) $(PY) -m pytest -q --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks/

test: test-lib test-notebooks book-html

benchmark: $(STAMP)
	$(PY) benchmarks/search_step.py

clean:
	rm -rf _build
