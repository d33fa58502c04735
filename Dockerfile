# logmon in a container.
#   docker build -t logmon .
#   tail -F access.log | docker run -i --rm logmon            # live, on a pipe
#   docker run -i --rm logmon --replay < access.log            # replay a file
#   docker run --rm --group-add adm -v /var/log/nginx:/logs:ro logmon --follow /logs/access.log
# (--group-add adm: Debian's and Ubuntu's web logs are 0640 www-data:adm.)

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin logmon

FROM debian:bookworm-slim
# A regular uid: `--system` with a uid above 999 makes useradd warn.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin logmon
COPY --from=build /src/target/release/logmon /usr/local/bin/logmon
COPY man/logmon.1 /usr/local/share/man/man1/logmon.1
USER logmon
ENTRYPOINT ["logmon"]
