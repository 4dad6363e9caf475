# PeerCoach production image: migrations, then the HTTP server on $PORT as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY db ./db
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=3000
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 peercoach
USER peercoach
WORKDIR /home/peercoach
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
# `serve` applies migrations itself before taking requests; `db upgrade` first makes a failed
# migration visible as its own step in the logs.
CMD ["sh", "-c", "peercoach db upgrade && exec peercoach serve"]
