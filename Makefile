# Thin wrapper over CMake, the way Neovim does it. Two commands matter:
#   make demo   build and run the demonstration
#   make test   build and run every test
# Others: make (build), make bench, make asan, make fuzz, make clean.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 180
JOBS       ?= 2
CMAKE      ?= cmake
CTEST      ?= ctest

.PHONY: all deps build test bench demo asan fuzz clean

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

# libFuzzer (clang) on the Binance codec, FUZZ_SECONDS long, starting from the
# committed corpus; new inputs go to $(FUZZ_BUILD)/corpus, crashes to
# $(FUZZ_BUILD)/crash-*. make test replays the committed corpus.
fuzz: deps
	$(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCQ_FUZZ=ON \
	  -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	$(CMAKE) --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_binance_md
	mkdir -p $(FUZZ_BUILD)/corpus
	./$(FUZZ_BUILD)/fuzz_binance_md -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/binance_md.dict \
	  -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus fuzz/corpus/binance_md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
