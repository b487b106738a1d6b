# The companion's entry points. Each target creates/uses the virtual environment itself.
#   make book        run every notebook at $(PROFILE) (cached results reused) and build the book
#   make test        unit tests, nbval on the notebooks at the smoke profile, a warnings-as-errors book build,
#                    and every chapter checked in headless Chromium (installed with apt-get on first use)
#   make data        put CIFAR-10 and Omniglot under data/ (local archives, else torchvision download); checks
#                    the tensor caches in place against their recorded checksums and rebuilds damaged ones
#   make benchmark   time every case of benchmarks/README.md (search, training, evaluation, one LAMANAS task)
#                    against a reference-equivalent baseline
# Variables: PROFILE=smoke|small|cpu|paper (default cpu), DEVICE=auto|cpu|cuda,
#            RUN_MISSING=1 computes the runs the cache lacks (without it, at every profile but smoke, a table
#            shows them as pending), FORCE=1 recomputes every run (implies RUN_MISSING=1),
#            STRICT=1 makes a stale, altered or unsealed cached record an error instead of a marked result,
#            SEED=<n> (to the notebooks that take `seed`; default: each notebook's own),
#            PARAMS="-p name value ..." (to each notebook that declares the name; a name none declares, or a
#            value that is not of the parameter's type, is an error before anything runs),
#            NOTEBOOKS="<names>" (a subset), ARCHIVES=<folder with the offline dataset archives>,
#            ARCHIVE=1 (book, book-html) also writes _build/companion-site.zip, the site to read offline,
#            EXECUTOR=local|ray (where the rows of a table run; ray: a local Ray cluster, or the one at
#            RAY_ADDRESS=<head>:6379; see book/reproducibility.md, "Running on a cluster").
#   make evidence         work through the profile's evidence queue (baselines and controls, measurements, then every row for 3 seeds,
#                         then seeds 3-4 of the LAMANAS baseline and its no-meta-training control),
#                         committing each record as it lands; kill it at any moment and start it again later
#                         (PROCESSES=<n> worker processes, default one one-thread process per core;
#                         LIMIT_HOURS=<h>: start no run that would end after h hours; MAX_RUN_HOURS=<h> (default 2;
#                         0: none): on a CPU start no run estimated longer, as its checkpoint would not outlive the
#                         session (status lists them, for a lent GPU); ONLY="LAMANAS curve lnas_":
#                         only the runs whose name contains one of these texts, e.g. while a lent GPU takes LNAS).
#                         Run it in the background:
#                         nohup make evidence > evidence.log 2>&1 &
#   make evidence-status  done / running / left of that queue, with the estimated core-hours left

PYTHON_BASE ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
PROFILE     ?= cpu
DEVICE      ?= auto
FORCE       ?= 0
RUN_MISSING ?= 0
STRICT      ?= 0
SEED        ?=
PARAMS      ?=
ARCHIVES    ?= ../shared/data
NOTEBOOKS   ?= darts_cifar10 lnas_table1 lnas_curves lnas_search_cost lnas_generalized \
               lamanas_algorithms lamanas_table1 lamanas_loss_landscape lamanas_pretrained_stem scorecard scaling records
BOOK_FLAGS  := --all -W -n --keep-going
ARCHIVE     ?= 0
EXECUTOR    ?= local
RAY_ADDRESS ?=
PROCESSES   ?=
LIMIT_HOURS ?=
CHROMIUM    := /usr/bin/chromium
# Graphviz already on PATH (macOS, a cluster module) is used as is; else Debian's, installed by `make graphviz`
DOT         := $(or $(shell command -v dot 2>/dev/null),/usr/bin/dot)

.PHONY: venv graphviz data gpu-carry mathjax browser run book book-html test test-lib test-notebooks test-browser benchmark evidence evidence-status clean

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

data: $(STAMP)
	$(PY) -m lib.data.fetch --dataset all --archives $(ARCHIVES)

# What benchmarks/gpu_evidence.sh needs carried to a lent GPU (the `run` tool's `carry`; .carry/ is gitignored):
# the decoded Omniglot, and the CIFAR-10 JPEG export as xz (55 MiB of JPEGs -> ~18 MiB: their headers repeat)
# with the checksums of its decoded tensors, so the device proves it decodes the same pixels before any LNAS run.
gpu-carry: data
	mkdir -p .carry/omniglot-py
	cp data/omniglot-py/omniglot28.pt .carry/omniglot-py/
	tar cf - -C data/cifar10-jpeg train test cifar10-extras/train_order.csv cifar10-extras/test_order_first1000.csv \
	  | xz -6 -T2 > .carry/cifar10-jpeg.tar.xz.part && mv .carry/cifar10-jpeg.tar.xz.part .carry/cifar10-jpeg.tar.xz
	$(PY) -c "import json; from lib.data.cifar10 import load_cifar10; \
	  print(json.dumps({s: load_cifar10(s)[2].checksum for s in ('train', 'test')}))" > .carry/cifar10-jpeg.json

mathjax: $(STAMP)
	$(PY) tools/fetch_mathjax.py

# Debian's Chromium for the browser test (Playwright drives it; no browser is downloaded). Needs root.
browser:
	@test -x $(CHROMIUM) || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
	  || { echo "make browser: could not install chromium; as root run: apt-get update && apt-get install chromium" >&2; exit 1; }

# Debian's Graphviz (`dot`), which draws the genotypes (lib/plots/style.py, Python binding `graphviz`). Needs root.
graphviz:
	@test -x $(DOT) || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends graphviz; } \
	  || { echo "make graphviz: could not install graphviz; as root run: apt-get update && apt-get install graphviz" >&2; exit 1; }

# Execute each notebook into book/ with papermill; cached run records make this fast.
# Every parameter of every notebook is checked before the first one starts; PARAMS go to the notebooks that declare them.
run: $(STAMP) graphviz
	TQDM_DISABLE=1 COMPANION_STRICT=$(STRICT) EXECUTOR=$(EXECUTOR) $(if $(RAY_ADDRESS),RAY_ADDRESS=$(RAY_ADDRESS)) \
	  $(PY) tools/run_notebook.py $(NOTEBOOKS) --profile $(PROFILE) \
	  --device $(DEVICE) $(if $(SEED),--seed $(SEED)) $(if $(filter 1,$(FORCE)),--force) \
	  $(if $(filter 1,$(RUN_MISSING)),--run-missing) $(PARAMS)

book-html: $(STAMP) mathjax
	$(VENV)/bin/jupyter-book build . $(BOOK_FLAGS)
ifeq ($(ARCHIVE),1)
	$(PY) tools/archive_site.py --html _build/html --out _build/companion-site.zip
endif

book: run book-html

test-lib: $(STAMP)
	$(PY) -m pyflakes lib tests tools benchmarks
	$(PY) -m pytest tests -q --ignore=tests/browser

# The tables' CSVs go to a temporary folder (COMPANION_STATIC_DIR), not into book/_static/downloads.
test-notebooks: $(STAMP) graphviz
	TQDM_DISABLE=1 COMPANION_RESULTS_DIR=$$(mktemp -d) COMPANION_STATIC_DIR=$$(mktemp -d) $(PY) -m pytest -q --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks/

# Every chapter in headless Chromium; full-page screenshots go to test-artifacts/screenshots/.
test-browser: $(STAMP) browser book-html
	$(PY) -m pytest tests/browser -q

test: test-lib test-notebooks book-html test-browser

benchmark: $(STAMP)
	$(PY) benchmarks/benchmark.py

evidence: $(STAMP)
	TQDM_DISABLE=1 $(PY) tools/evidence.py start --profile $(PROFILE) --device $(DEVICE) \
	  $(if $(PROCESSES),--processes $(PROCESSES)) $(if $(LIMIT_HOURS),--limit-hours $(LIMIT_HOURS)) \
	  $(if $(MAX_RUN_HOURS),--max-run-hours $(MAX_RUN_HOURS)) $(if $(ONLY),--only $(ONLY))

evidence-status: $(STAMP)
	$(PY) tools/evidence.py status --profile $(PROFILE) --device $(DEVICE) $(if $(PROCESSES),--processes $(PROCESSES)) \
	  $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf _build
