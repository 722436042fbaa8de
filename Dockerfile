# csgw in one container: `docker build -t csgw .` then
#   docker run -p 8080:8080 -v csgw-data:/data csgw
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CSGW_CONFIG=/data/csgw.toml
WORKDIR /app

COPY pyproject.toml README.md ./
COPY csgw ./csgw
COPY gateway ./gateway
COPY plugins ./plugins
COPY cli ./cli
COPY config ./config
COPY health ./health
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 csgw && mkdir -p /data && chown csgw /data

USER csgw
VOLUME ["/data"]
EXPOSE 8080
# First start writes /data/csgw.toml (listening on all interfaces inside the container).
CMD ["sh", "-c", "test -f /data/csgw.toml || (csgw init --dir /data && sed -i 's/^host = \"127.0.0.1\"/host = \"0.0.0.0\"/' /data/csgw.toml); exec csgw serve"]
