# TLS in the modem: the cost report per transport (bench/results/tls.md); not part of `make test`.
.PHONY: bench-tls
bench-tls: mp-build sim
	python3 bench/run_tls_bench.py
