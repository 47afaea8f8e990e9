# syntax=docker/dockerfile:1
#
# tfpilot's container image: `docker build -t tfpilot .`
#
# - builder: the workspace's toolchain builds the browser bundle (wasm32,
#   wasm-bindgen, wasm-opt from npm `binaryen`) and the release server with
#   `cargo xtask dist`;
# - runtime: Debian slim with git, terraform (HashiCorp's release zip, its
#   SHA256 checked), the binary, the site, the module registry and the
#   infra-workflows directory, run as the non-root user `tfpilot`.
#
# `cargo xtask test` lints this file with hadolint and checks its structure;
# the image itself is built where docker runs (see README, "Operating tfpilot").

ARG RUST_VERSION=1.95.0
ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
# node and npm for `npm install binaryen` (wasm-opt), as `cargo xtask` does.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && rustup target add wasm32-unknown-unknown
# Debian's packages are not pinned: a point release replaces the versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo xtask dist /out

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG TERRAFORM_VERSION=1.11.4
# From HashiCorp's terraform_${TERRAFORM_VERSION}_SHA256SUMS.
ARG TERRAFORM_SHA256_AMD64=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
ARG TERRAFORM_SHA256_ARM64=a43d1d0da9b9bab214a8305a39db0e40869572594ccf50c416a7756499143633
ARG TARGETARCH=amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# git for local repos, terraform for local runs, curl for the HEALTHCHECK.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl git unzip \
    && case "${TARGETARCH}" in \
         amd64) sum="${TERRAFORM_SHA256_AMD64}" ;; \
         arm64) sum="${TERRAFORM_SHA256_ARM64}" ;; \
         *) echo "no terraform checksum for ${TARGETARCH}" >&2; exit 1 ;; \
       esac \
    && zip="terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip" \
    && curl -fsSL -o "/tmp/${zip}" "https://releases.hashicorp.com/terraform/${TERRAFORM_VERSION}/${zip}" \
    && echo "${sum}  /tmp/${zip}" | sha256sum -c - \
    && unzip -q "/tmp/${zip}" terraform -d /usr/local/bin \
    && rm "/tmp/${zip}" \
    && apt-get purge -y unzip \
    && rm -rf /var/lib/apt/lists/* \
    && terraform version \
    && groupadd --gid 10001 tfpilot \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/tfpilot tfpilot \
    && install -d -o tfpilot -g tfpilot /var/lib/tfpilot

COPY --from=builder /out/tfpilot /usr/local/bin/tfpilot
COPY --from=builder /out/site /usr/share/tfpilot/site
COPY modules-registry.toml /usr/share/tfpilot/modules-registry.toml
COPY infra-workflows /usr/share/tfpilot/infra-workflows

ENV TFPILOT_BIND=0.0.0.0:3000 \
    TFPILOT_DATA_DIR=/var/lib/tfpilot \
    TFPILOT_SITE_ROOT=/usr/share/tfpilot/site \
    TFPILOT_REGISTRY=/usr/share/tfpilot/modules-registry.toml \
    TFPILOT_WORKFLOWS_DIR=/usr/share/tfpilot/infra-workflows \
    CHECKPOINT_DISABLE=1

USER 10001:10001
WORKDIR /var/lib/tfpilot
VOLUME ["/var/lib/tfpilot"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=5m --retries=3 \
    CMD ["curl", "-fsS", "--max-time", "2", "-o", "/dev/null", "http://127.0.0.1:3000/healthz"]
ENTRYPOINT ["tfpilot"]
CMD ["serve"]
