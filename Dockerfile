# syntax=docker/dockerfile:1
# Container image for nvm-detector: `docker build -t nvm-detector .`

# ---- build -----------------------------------------------------------------
FROM rust:1-bookworm AS builder

# librdkafka is compiled from source by the rdkafka crate.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libssl-dev zlib1g-dev libzstd-dev libsasl2-dev python3 perl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# Cache mounts keep the crate registry and build artefacts across image builds;
# the binary is copied out because the target dir is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build -p nvm-detector --release --locked \
 && install -D -m 0755 target/release/nvm-detector /out/nvm-detector

# ---- runtime ---------------------------------------------------------------
FROM debian:bookworm-slim

# Shared libraries librdkafka may link against, plus CA roots for TLS brokers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g libzstd1 libsasl2-2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nvm \
 && useradd --system --uid 10001 --gid nvm --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nvm

COPY --from=builder /out/nvm-detector /usr/local/bin/nvm-detector
COPY rules/ /etc/nvm-detector/rules/
COPY data/ /usr/share/nvm-detector/data/

USER nvm:nvm
ENTRYPOINT ["nvm-detector"]
CMD ["--help"]
