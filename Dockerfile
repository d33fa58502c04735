# logmon in a container.
#   docker build -t logmon .
#   tail -F access.log | docker run -i --rm logmon            # live, on a pipe
#   docker run -i --rm logmon --replay < access.log            # replay a file
#   docker run --rm -v /var/log/nginx:/logs:ro logmon --follow /logs/access.log

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin logmon

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin logmon
COPY --from=build /src/target/release/logmon /usr/local/bin/logmon
COPY man/logmon.1 /usr/local/share/man/man1/logmon.1
USER logmon
ENTRYPOINT ["logmon"]
