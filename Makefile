# kizuna: `make demo` builds and shows the demo store; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_CUSTOMERS ?= 2000
DEMO_SEED ?= 42
DEMO_BASE_URL ?= http://127.0.0.1:8000

.PHONY: demo test lint bench install clean

$(BIN)/kizuna: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/kizuna

demo: install
	$(BIN)/kizuna demo-data --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	$(BIN)/kizuna db status
	$(BIN)/kizuna customer show demo-0000001 --orders 5 --events 8
	$(BIN)/kizuna train
	$(BIN)/kizuna recommend demo-0000042 -n 5 --lang ja
	$(BIN)/kizuna segments add trial-only --builtin trial-only
	$(BIN)/kizuna segments add lapsed --builtin lapsed
	$(BIN)/kizuna segments rebuild
	$(BIN)/kizuna scenarios add --template first-order-coupon --replace
	$(BIN)/kizuna scenarios add --template lapsed-sale-dm --replace
	$(BIN)/kizuna run --once
	$(BIN)/kizuna scenarios show first-order-coupon
	$(BIN)/kizuna value compute
	KIZUNA_PUBLIC_BASE_URL=$(DEMO_BASE_URL) $(BIN)/kizuna dm render --scenario lapsed-sale-dm \
		--out demo-output/dm-$$(date +%Y%m%d-%H%M%S)
	@echo
	@echo "Demo store built: $$($(BIN)/kizuna db status | head -n 1 | sed 's/^store: *//')"
	@echo "Look at it with:"
	@echo "  $(BIN)/kizuna db status                 # what the store holds and where it is"
	@echo "  $(BIN)/kizuna customer show demo-0000042 # one customer's attributes, orders, events, consents"
	@echo "  $(BIN)/kizuna recommend demo-0000001      # refused personalisation: popular products only"
	@echo "  $(BIN)/kizuna segments list                # segments and their members"
	@echo "  $(BIN)/kizuna scenarios list               # scenarios, runs in progress, deliveries in the outbox"
	@echo "  $(BIN)/kizuna scenarios preview lapsed-sale-dm --limit 3  # who would enter and what each receives"
	@echo "  ls demo-output/                          # the direct mail print batch: PDFs, manifest.csv, suppressed.csv"
	@echo "  $(BIN)/kizuna report scenario lapsed-sale-dm  # response, conversion and uplift against the control group"
	@echo "  $(BIN)/kizuna users create you@example.jp --role admin && $(BIN)/kizuna serve"
	@echo "      # then open http://127.0.0.1:8000/ (the dashboard) and http://127.0.0.1:8000/demo/shop (web slots)"
	@echo "  $(BIN)/kizuna --help                    # every command"

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/import_completejourney.py
	$(BIN)/python benchmarks/demo_data.py
	$(BIN)/python benchmarks/recommend_movielens.py
	$(BIN)/python benchmarks/recommend_completejourney.py
	$(BIN)/python benchmarks/recommend_serving.py
	$(BIN)/python benchmarks/bayesnet_movielens.py
	$(BIN)/python benchmarks/ingest_http.py
	$(BIN)/python benchmarks/segments_rebuild.py
	$(BIN)/python benchmarks/scenarios_engine.py
	$(BIN)/python benchmarks/dm_render.py
	$(BIN)/python benchmarks/email_send.py
	$(BIN)/python benchmarks/personalize_http.py
	$(BIN)/python benchmarks/measure_hillstrom.py
	$(BIN)/python benchmarks/ltv_cdnow.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
