# The fault matrix (tests/mp/test_fault_matrix.py) on every build, and the README table made from
# that run. `make fault-matrix` rewrites the table; `make fault-matrix-check` (in `make test`)
# runs the matrix again and fails if the README's table is not exactly what the run gives.
.PHONY: fault-matrix fault-matrix-check fault-matrix-run
FAULT_MATRIX_DIR := build/fault-matrix

fault-matrix-run: mp-build sim
	rm -rf $(FAULT_MATRIX_DIR) && mkdir -p $(FAULT_MATRIX_DIR)
	MAS_FAULT_MATRIX_OUT=$(CURDIR)/$(FAULT_MATRIX_DIR)/send_at_cmd.jsonl \
	  $(MP_TEST) --micropython $(MICROPYTHON) --profiles 1.20.2,pr429 test_fault_matrix
	MAS_FAULT_MATRIX_OUT=$(CURDIR)/$(FAULT_MATRIX_DIR)/lteppp.jsonl \
	  $(MP_TEST) --micropython $(MICROPYTHON_LTEPPP) --profiles 1.20.2 test_fault_matrix
	MAS_FAULT_MATRIX_OUT=$(CURDIR)/$(FAULT_MATRIX_DIR)/lteppp-118.jsonl \
	  $(MP_TEST) --micropython $(MICROPYTHON_LTEPPP_118) --profiles 1.18 test_fault_matrix

FAULT_MATRIX_RESULTS = $(FAULT_MATRIX_DIR)/send_at_cmd.jsonl $(FAULT_MATRIX_DIR)/lteppp.jsonl \
	$(FAULT_MATRIX_DIR)/lteppp-118.jsonl

fault-matrix: fault-matrix-run
	python3 tests/mp/fault_matrix_report.py --readme README.md $(FAULT_MATRIX_RESULTS)

fault-matrix-check: fault-matrix-run
	python3 tests/mp/fault_matrix_report.py --check --readme README.md $(FAULT_MATRIX_RESULTS)

TEST_EXTRA += fault-matrix-check
