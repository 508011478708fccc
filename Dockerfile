# vertaisbot: Socket Mode by default (SLACK_APP_TOKEN set), HTTP mode on port 3000 otherwise.
# See README "Run in production" and compose.yaml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEALTH_FILE=/app/var/health

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin vertaisbot
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY models ./models
COPY migrations ./migrations
COPY scheduler ./scheduler
RUN pip install . \
    && rm -rf bot handlers services models migrations scheduler \
    && mkdir -p /app/var \
    && chown vertaisbot:vertaisbot /app/var

USER vertaisbot
EXPOSE 3000
STOPSIGNAL SIGTERM
# Exit 0 while connected to Slack (Socket Mode) or answering GET /healthz (HTTP mode), and the
# database answers.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
# Migrates the database (an advisory lock lets replicas start together), then serves until SIGTERM.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
