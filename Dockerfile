# Multi-stage build of the `newsflow` binary. Every pipeline service runs
# this one image with a different command (see docker-compose.yml).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p newsflow-cli \
 && cp target/release/newsflow /usr/local/bin/newsflow

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/newsflow newsflow \
 && mkdir -p /var/lib/newsflow && chown newsflow /var/lib/newsflow
COPY --from=build /usr/local/bin/newsflow /usr/local/bin/newsflow
COPY config /etc/newsflow
USER newsflow
ENV NEWSFLOW_CONFIG=/etc/newsflow/docker.toml
ENTRYPOINT ["newsflow"]
