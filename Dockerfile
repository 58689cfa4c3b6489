# syntax=docker/dockerfile:1
# roomcast: one static binary with the web app inside, run as a non-root
# user from a distroless image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse --short HEAD) -t roomcast .
#   docker run -d --name roomcast -p 1935:1935 -p 8080:8080 -p 8443:8443 \
#     -v roomcast-data:/data roomcast
#
# See docs/deploy.md (configuration file, TLS, reverse proxies, metrics).

# --- 1. the web app (web/ → internal/web/dist) ---
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY web/ web/
COPY scripts/build-web.sh scripts/
RUN mkdir -p internal/web/dist && scripts/build-web.sh

# --- 2. the static binary ---
FROM golang:1.26-bookworm AS build
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY internal/ internal/
COPY --from=web /src/internal/web/dist/ internal/web/dist/
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/roomcast ./cmd/roomcast \
 && /out/roomcast version \
 && mkdir -p /out/data

# --- 3. ffmpeg, static (musl, no shared libraries: it runs on distroless),
# for live covers, replay posters, the quality ladder, the co-host mix and
# WebRTC audio; without it those features are off and the rest works ---
FROM mwader/static-ffmpeg:7.1 AS ffmpeg

# --- 4. the runtime: no shell, no package manager, uid 65532 ---
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roomcast /usr/local/bin/roomcast
COPY --from=ffmpeg /ffmpeg /usr/local/bin/ffmpeg
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ROOMCAST_DATA=/data \
    ROOMCAST_LOG_FORMAT=json
VOLUME ["/data"]
# RTMP, HTTP (API, HTTP-FLV, WebSocket, HLS, web app, /metrics), HTTPS/WSS
EXPOSE 1935 8080 8443
# The container runtime sends SIGTERM on stop: roomcast shuts down within
# -shutdown-grace (10s by default); give "docker stop -t" a few seconds more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/roomcast"]
CMD ["serve"]
