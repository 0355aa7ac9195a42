# syntax=docker/dockerfile:1
# One image for every service and process of the platform; the command picks the process
# (see docker-compose.yml and deploy/k8s/). Build: docker build -t t4t-platform:local .

# --- build stage: install the project (no dev extras) into a virtualenv -------------------
# The base is pinned to an exact version tag (no registry was reachable to read its digest when this was
# written: add @sha256:<digest> after the tag where the build can resolve it, and keep both stages equal).
FROM python:3.11.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the wheel is built from, so editing tests or manifests keeps the layer cache.
# constraints.txt pins every package to the version the tests passed with (make constraints).
COPY pyproject.toml constraints.txt ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir . -c constraints.txt

# --- runtime stage ------------------------------------------------------------------------
FROM python:3.11.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/app/var

# Certificates print participants' names with DejaVu Sans, so letters such as "ễ" survive.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid (10001) that the Kubernetes securityContext names too.
# /data/files is created here, owned by that user, so a fresh Docker named volume mounted
# there inherits the ownership; /tmp/prom is the default Prometheus multiprocess folder.
RUN groupadd --system --gid 10001 t4t \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin t4t \
 && mkdir -p /app/var /data/files /tmp/prom \
 && chown -R 10001:10001 /app /data/files /tmp/prom

COPY --from=build /opt/venv /opt/venv

# The working directory holds no source: imports resolve to the installed packages.
WORKDIR /app
USER 10001:10001

EXPOSE 8000

# Default process: the content API. Other processes override the command (the Procfile,
# docker-compose.yml and deploy/k8s/ name them all), e.g.
#   gunicorn -c python:services.scheduling.gunicorn_conf services.scheduling.wsgi:app
#   python -m services.<service>.worker consumer | relay | jobs    (one part each; none: all three)
#       (with WORKER_METRICS_PORT=9100 a worker serves Prometheus metrics on that port)
#   python -m services.content.manage migrate | python -m services.scheduling.manage migrate
CMD ["gunicorn", "-c", "python:shared.gunicorn_conf", "services.content.wsgi:app"]
