# PeerCoach production image: migrations, then the HTTP server on $PORT as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY db ./db
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install ".[postgres]"

FROM python:3.11-slim
# A container must listen on every interface to be reachable through its published port.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=3000
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 peercoach
USER peercoach
WORKDIR /home/peercoach
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
# Migrate as its own step (a failure shows as such in the logs), then serve without migrating
# again. Deployments that migrate in a separate job run `peercoach serve --no-migrate` (or
# `worker --no-migrate`) directly. `exec` makes PeerCoach PID 1, so SIGTERM from `docker stop`
# reaches it and it winds down (SHUTDOWN_GRACE_SECONDS, docs/operations.md).
CMD ["sh", "-c", "peercoach db upgrade && exec peercoach serve --no-migrate"]
