# README.md's benchmark figures (bench/readme_figures.py). `make bench` writes
# bench/results/latest.json and refills the README's rows from it; `make bench-figures-check`
# (in `make test`) fails when a README figure is not latest.json's, or when today's code, run by
# the smoke bench, gives other modelled figures than latest.json for a README row. Both
# comparisons are of deterministic modelled figures (the fake LTE's clock and counters);
# host-CPU figures are left out.
.PHONY: bench-figures bench-figures-check

bench-figures:
	python3 bench/readme_figures.py --write

bench-figures-check: bench-smoke
	python3 bench/readme_figures.py --check --smoke bench/results/smoke.json

TEST_EXTRA += bench-figures-check
