# One image for every service; the compose file picks the entry point per container.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY libs ./libs
COPY services ./services
RUN pip install . && useradd --system --uid 10001 dr
USER dr
# Overridden per service in deploy/compose.yaml, e.g. `python -m ingest bridge`.
CMD ["python", "-m", "api"]
