# roomcast — the two commands are `make run` and `make test`.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := bin/roomcast

.PHONY: all build web run test test-deps test-go test-web test-miniprogram vet fuzz bench clean

all: build

## build: one static binary in bin/roomcast, with the web app inside
build: web
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/roomcast

## web: build the web app (web/) into internal/web/dist for go:embed
web:
	@scripts/build-web.sh

## run: build and start the server on its defaults (RTMP :1935, HTTP :8080, data in ./data)
run: build
	./$(BIN) serve

## test: install missing test tools, then run every test
test: test-deps build vet test-go test-web test-miniprogram

## test-deps: install ffmpeg, Chromium and npm packages when missing; fail loudly otherwise
test-deps:
	@scripts/install-test-deps.sh

test-go:
	$(GO) test -race -count=1 -timeout 20m ./...

## test-web: web app unit tests and browser tests (headless Chromium)
test-web: build
	@scripts/test-web.sh

## test-miniprogram: mini program module and page tests (node --test)
test-miniprogram: build
	@scripts/test-miniprogram.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal test)" || { echo "gofmt needed:"; gofmt -l cmd internal test; exit 1; }

## fuzz: run every fuzz target for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: hot-path benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin
	find internal/web/dist -mindepth 1 ! -name .gitkeep -delete
