# The demo runner's honesty (tests/demo/test_run_demo.py): a typo, a skip, a failing example
# and a crashing one each reported as what they are, counted on the last line, exit status 1
# on a failure. In `make test`.
.PHONY: demo-check

demo-check: mp-build sim
	python3 tests/demo/test_run_demo.py --sim $(SIM) --micropython $(MICROPYTHON)

TEST_EXTRA += demo-check
