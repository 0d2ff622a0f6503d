FROM python:3.11-slim
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH"
# Settings come from the environment (docker-compose.yml): MLA_DATABASE_URL is the runtime role,
# MLA_MIGRATION_DATABASE_URL the owner (only `mla migrate` gets it). The data folder holds the
# signed audit checkpoint log, outside PostgreSQL: keep it on a volume.
ENV MLA_DATA_DIR=/var/lib/mla
VOLUME /var/lib/mla
EXPOSE 8000
CMD ["mla", "serve", "--host", "0.0.0.0", "--port", "8000"]
