# The two quick-start commands, and the benchmark.
.PHONY: demo test bench static
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench-offline.sh
static:
	bash scripts/build-static.sh
