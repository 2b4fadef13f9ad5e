# sluice — the commands a user and CI run. CMake does the building; this file
# only names the configurations:
#   build/release  optimised, the binary users run (`make`, `make run`, `make bench`)
#   build/test     clang + AddressSanitizer + UndefinedBehaviorSanitizer +
#                  libFuzzer targets (`make test`, `make fuzz`)
JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory
FUZZ_SECONDS ?= 20

.PHONY: all build run test bench fuzz docs deps clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -g -DNDEBUG" >/dev/null
	@cmake --build build/release --target sluice -j $(JOBS)

run: build
	@bash examples/run-quickstart.sh build/release/sluice

test: deps
	@CC=clang CXX=clang++ cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON -DSL_FUZZ=ON -DSL_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build build/test -j $(JOBS)
	@cd build/test && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

bench: build
	@python3 bench/run.py build/release/sluice $(if $(BASELINE),--baseline $(BASELINE))

fuzz: deps
	@$(MAKE) --no-print-directory test FUZZ_SECONDS=300

docs: build
	@build/release/sluice help --reference > docs/components.md
	@echo "docs/components.md regenerated"

clean:
	rm -rf build
