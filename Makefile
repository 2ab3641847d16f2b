# kessai's make targets. The test suite is scripts/test.sh; see
# docs/fuzzing.md for the fuzz targets.

# FUZZTIME is how long each fuzz target runs (any go test -fuzztime
# value: 30s, 5m, 1h, 10000x). FUZZ narrows the targets (an extended
# regexp on "package.Name", e.g. FUZZ='api\.').
FUZZTIME ?= 30s

.PHONY: test fuzz

test:
	scripts/test.sh

fuzz:
	FUZZ='$(FUZZ)' scripts/fuzz.sh $(FUZZTIME)
