# meshbox: build stage compiles DuckDB and meshbox; the runtime image is slim and serves the bundled sample mesh.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock askama.toml rustfmt.toml ./
COPY src ./src
COPY web ./web
COPY sample-mesh ./sample-mesh
RUN cargo build --release --locked && strip target/release/meshbox

FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 meshbox
COPY --from=build /src/target/release/meshbox /usr/local/bin/meshbox
USER meshbox
ENV MESHBOX_CACHE_DIR=/home/meshbox/.cache/meshbox
EXPOSE 7700
# Mount your own mesh with `-v $PWD/my-mesh:/mesh` and run `meshbox serve /mesh --bind 0.0.0.0`.
CMD ["meshbox", "serve", "--bind", "0.0.0.0", "--port", "7700"]
