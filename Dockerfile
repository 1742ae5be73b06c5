# One image for every service; the compose file picks the entry point per container.
# BASE: the local Debian image `make images` builds (nothing is pulled); any image with
# python3.11 and its venv module works, e.g. --build-arg BASE=python:3.11-slim.
ARG BASE=dr-base:bookworm
FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first (a layer that survives source edits), then the platform's own packages.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -q -r /tmp/requirements.txt
COPY README.md ./
COPY libs ./libs
COPY services ./services
RUN pip install -q --no-deps . && useradd --system --uid 10001 dr
USER dr
# Overridden per service in deploy/compose.yaml, e.g. `python -m ingest bridge`.
CMD ["python", "-m", "api"]
