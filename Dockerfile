# syntax=docker/dockerfile:1
#
# ssot-bot webhook service.
#
#   docker build -t ssot-bot .
#   docker run --rm -p 3000:3000 --env-file ssot-bot.env ssot-bot
#
# No secret is baked into the image: APP_ID, PRIVATE_KEY / PRIVATE_KEY_PATH and WEBHOOK_SECRET
# come from the environment at run time (see docs/deploy.md).

ARG PYTHON_VERSION=3.12

# -- builder: a wheel of ssot-bot and wheels of all its dependencies ------------------------------
FROM python:${PYTHON_VERSION}-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# bot/data/ssot.yml and bot/data/app.yaml are symlinks to config/ssot.yml and app.yaml: both
# targets must be in the build tree so the wheel carries the real files. ssot_emulator/ is the
# GitHub emulator that `ssot-bot demo` plays against (with its OpenAPI subset); bot/data/demo/
# holds the demo's example repository and tracking issue.
COPY pyproject.toml README.md LICENSE app.yaml ./
COPY config/ ./config/
COPY bot/ ./bot/
COPY ssot_emulator/ ./ssot_emulator/

# The second step names the wheel file, not the distribution, so a package on the index that
# happens to be called ssot-bot can never stand in for this one.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels /wheels/ssot_bot-*.whl

# -- runtime: the installed wheels, nothing else -------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

LABEL org.opencontainers.image.title="ssot-bot" \
      org.opencontainers.image.description="GitHub App that enforces single-source-of-truth rules on pull requests" \
      org.opencontainers.image.version="0.3.0" \
      org.opencontainers.image.url="https://github.com/ssot-bot/ssot-bot" \
      org.opencontainers.image.source="https://github.com/ssot-bot/ssot-bot" \
      org.opencontainers.image.documentation="https://github.com/ssot-bot/ssot-bot/blob/main/docs/deploy.md" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 ssot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin ssot

# Install from the builder's wheels only (no index), without leaving the wheels in a layer.
# The versions are pinned by the wheels the builder made.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels ssot-bot

WORKDIR /app

ENV HOST=0.0.0.0 \
    PORT=3000

EXPOSE 3000

USER 10001:10001

# The slim image has no curl: probe /healthz with the standard library. Any answer other than
# 2xx (or no answer within the timeout) raises, so the probe exits non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]

# SIGTERM drains: webhooks are answered 503 while running jobs get 25 s, then the process exits 0
# (docs/deploy.md; give `docker stop` a --time of 40 s). A second SIGTERM exits at once.
STOPSIGNAL SIGTERM

ENTRYPOINT ["ssot-bot"]
CMD ["serve"]
