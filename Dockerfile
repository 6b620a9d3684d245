# Sesame: multi-stage build, runs as an unprivileged user.
# Migrations are their own step: `docker run ... sesame migrate` before starting replicas.
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
RUN /opt/venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SESAME_HOST=0.0.0.0 \
    SESAME_PORT=8000 \
    SESAME_DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /app sesame \
    && mkdir -p /data \
    && chown sesame /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["sesame"]
CMD ["serve"]
