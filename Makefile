# Tierflow developer commands. See README.md.
.PHONY: run test bench setup clean distclean

run:           ## set up, migrate, load demo data and serve on 127.0.0.1:$${PORT:-5000}
	bash scripts/run.sh

test:          ## ruff + pytest on SQLite + service/API tests on a throwaway PostgreSQL
	bash scripts/test.sh

setup:         ## only prepare .venv (and translations / npm assets)
	bash scripts/setup_env.sh

bench: setup   ## every benchmark, one table (each figure beside its floor); QUICK=1 for small sizes
	.venv/bin/python -m bench.table $(if $(QUICK),--quick,) --markdown bench-results.md

clean:         ## remove caches and build leftovers (keeps .venv and instance/)
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
		\( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache \) -type d -print0 \
		| xargs -0 rm -rf
	rm -rf build dist *.egg-info

distclean: clean  ## also remove .venv, node_modules and instance/ (local database!)
	rm -rf .venv node_modules instance
