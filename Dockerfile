# syntax=docker/dockerfile:1
# One image for every ferry process; docker-compose.yml picks the process by its command:
#   services/download-worker/dist/main.js   services/sync-worker/dist/main.js
#   services/dashboard/dist/main.js         services/producer/dist/cli.js (the `ferry` CLI)
# e.g. docker run --rm ferry services/producer/dist/cli.js status

# Node 22 is the active LTS line (Node 20 reached its end of life on 2026-04-30); CI runs the test suite on 22 too.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Manifests first: the dependency layer is rebuilt only when a package.json or the lock changes.
COPY package.json package-lock.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/emulators/package.json packages/emulators/
COPY services/producer/package.json services/producer/
COPY services/producer/bin services/producer/bin
COPY services/download-worker/package.json services/download-worker/
COPY services/sync-worker/package.json services/sync-worker/
COPY services/dashboard/package.json services/dashboard/
# --ignore-scripts: the root "prepare" (tsc -b) would run before the sources are here, and compiling TypeScript needs
# none of the native add-ons whose install scripts package.json "allowScripts" approves.
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY services services
RUN npx tsc -b

# ---------------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# PID 1 gets no default signal handling from the kernel: a process without its own SIGTERM/SIGINT handler ignores
# them. The services install handlers (graceful drain), but the CLI does not, so `docker stop` or Ctrl-C on
# `docker compose run producer` would hang until SIGKILL; and node does not reap orphaned children. tini is PID 1,
# forwards signals to node and reaps, so ENTRYPOINT is tini + node and each service's CMD names its script.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/emulators/package.json packages/emulators/
COPY services/producer/package.json services/producer/
COPY services/producer/bin services/producer/bin
COPY services/download-worker/package.json services/download-worker/
COPY services/sync-worker/package.json services/sync-worker/
COPY services/dashboard/package.json services/dashboard/
# Production dependencies only. --ignore-scripts keeps the root "prepare" (tsc -b, absent here) from running. Of the
# install scripts "allowScripts" approves, esbuild's is dev-only, and msgpackr-extract's and bufferutil's only check
# that their bundled prebuilt binary loads, else compile from source (impossible here: no compiler). Both load their
# prebuilt binaries at run time without the script, and both are optional speed-ups with pure-JS fallbacks.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/packages/shared/dist packages/shared/dist
COPY packages/shared/migrations packages/shared/migrations
COPY --from=build /app/services/producer/dist services/producer/dist
COPY --from=build /app/services/download-worker/dist services/download-worker/dist
COPY --from=build /app/services/sync-worker/dist services/sync-worker/dist
COPY --from=build /app/services/dashboard/dist services/dashboard/dist

# The code stays root-owned (read-only to the process); only the data folders belong to the unprivileged `node` user.
# Docker copies this ownership into an empty named volume mounted here.
RUN mkdir -p /data /backup && chown node:node /data /backup
ENV DATA_DIR=/data SYNC_LOCAL_DIR=/backup PATH=/app/node_modules/.bin:$PATH
USER node

EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--", "node"]
CMD ["services/producer/dist/cli.js", "--help"]
