# imagegen: two commands for a newcomer on a fresh machine.
#   make demo   build and verify the default recipe end to end
#   make test   the whole test suite: unit, tool and real-engine integration tests, in one run
# and, for the inner loop:
#   make unit         the hermetic unit tests (no engine, no program but imagegen, no sleeps)
#   make integration  the tests that run tools (git, python3, hadolint, check-jsonschema, zizmor)
#                     and those against a real engine and registry
# Each installs what it needs (Debian packages, PyPI tools, a running dockerd, base images made
# offline) and skips what is already there.

SWIFT ?= swift
IMAGEGEN = .build/debug/imagegen
RECIPE ?= recipes/opencode-sandbox.yaml
# The CA bundle builder stages trust for pip and npm (a TLS-intercepting proxy's CA is in the
# host's bundle where one is in the way). Never in an image, not a hash input.
BUILD_CA ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)

.PHONY: all build release dist image test unit integration format tsan demo deps build-deps engine images lint bench clean

all: build

deps:
	@scripts/deps

build-deps:
	@scripts/deps --build

engine: deps
	@scripts/engine
	@scripts/binfmt

# The tests' bases: a tiny busybox (amd64 and arm64), and Debian trixie (debootstrap, once) for
# the OpenCode family.
images: engine
	@scripts/provision-images busybox busybox-arm64 trixie

build: deps
	$(SWIFT) build

# An optimized binary with the Swift runtime and Foundation linked in: .build-static/release/imagegen
release: deps
	$(SWIFT) build -c release --product imagegen --static-swift-stdlib --scratch-path .build-static

# The release archive of this machine's architecture and dist/SHA256SUMS: a binary that needs
# nothing but glibc, its man pages and shell completions (scripts/dist; about 10 minutes the
# first time, a relink after).
dist: build-deps
	@scripts/dist

# imagegen's own image (recipes/imagegen.yaml) around the (stripped) binary of make dist, built
# and verified.
image: dist engine build
	@scripts/provision-images trixie
	install -D -m 0755 .build-static/stage/imagegen-*/bin/imagegen recipes/imagegen-bin/imagegen
	$(IMAGEGEN) build recipes/imagegen.yaml
	$(IMAGEGEN) verify recipes/imagegen.yaml

# recipes/imagegen.yaml is left out: its input is the binary make dist links, not committed.
lint: build
	for recipe in recipes/*.yaml; do [ $$recipe = recipes/imagegen.yaml ] || $(IMAGEGEN) generate --check $$recipe || exit 1; done
	$(IMAGEGEN) schema | diff -u schema/recipe.schema.json -
	hadolint generated/*/*/Dockerfile

# The test targets by tier (swift test --filter matches the module at the start of a test's id).
UNIT_TESTS = ^(ImageGenTests|DockerEngineTests|ContainerRegistryTests)\.
INTEGRATION_TESTS = ^(ToolTests|IntegrationTests)\.

test: deps engine images dist
	$(SWIFT) build --build-tests
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests
	IMAGEGEN_BUILD_CA=$(BUILD_CA) $(SWIFT) test --skip-build

unit: build-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter '$(UNIT_TESTS)'

integration: deps engine images
	$(SWIFT) build --build-tests
	IMAGEGEN_BUILD_CA=$(BUILD_CA) $(SWIFT) test --skip-build --filter '$(INTEGRATION_TESTS)'

# Formats the sources as .swift-format says (make test lints with it).
format:
	$(SWIFT) format format --in-place --recursive --parallel Package.swift Sources Tests

# The unit and integration tests under ThreadSanitizer, in a build folder of their own (a full
# instrumented build: about 15 minutes the first time). Not part of `make test`: CI's time.
tsan: deps engine images
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" $(SWIFT) test --sanitize=thread --scratch-path .build-tsan

demo: deps engine
	@scripts/provision-images trixie
	$(SWIFT) build
	$(IMAGEGEN) validate $(RECIPE)
	$(IMAGEGEN) generate --check $(RECIPE)
	IMAGEGEN_BUILD_CA=$(BUILD_CA) $(IMAGEGEN) build $(RECIPE)
	$(IMAGEGEN) verify $(RECIPE)

bench: release
	scripts/bench

clean:
	rm -rf .build .build-static .build-tsan dist recipes/imagegen-bin
