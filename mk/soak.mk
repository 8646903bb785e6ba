# The full soak of tests/mp/soak.py: SOAK_COUNT datagrams each way over IPv6 with network drops
# and injected faults, on both transports; prints the counts. A short one runs in `make test`
# (tests/mp/test_soak_short.py).
.PHONY: soak
SOAK_COUNT ?= 10000

soak: mp-build sim
	SOAK_COUNT=$(SOAK_COUNT) $(MP_TEST) -v --timeout 7200 --micropython $(MICROPYTHON) --profiles 1.20.2 tests/mp/soak.py
	SOAK_COUNT=$(SOAK_COUNT) $(MP_TEST) -v --timeout 7200 --micropython $(MICROPYTHON_LTEPPP) --profiles 1.20.2 tests/mp/soak.py
