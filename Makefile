# Thin wrapper over CMake, the way Neovim does it. Two commands matter:
#   make demo   build and run the demonstration
#   make test   build and run every test
# Others: make (build), make bench, make asan, make clean.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
CMAKE      ?= cmake
CTEST      ?= ctest

.PHONY: all deps build test bench demo asan clean

all: build

deps:
	@bash scripts/setup-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && $(CTEST) --output-on-failure -j$(JOBS)

bench: build
	@bash scripts/run-benches.sh $(BUILD)

demo: build
	./$(BUILD)/cquant demo

asan: deps
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCQ_SANITIZE=ON -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	$(CMAKE) --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
