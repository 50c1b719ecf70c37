# One image for every Sluice process; the command picks which: `run` (api, executor and
# projector in one process, the default), `api`, `executor`, `projector`, or any other
# `sluice` command (`db migrate`, `tokens create`…).
#   docker build -t sluice .
#   docker run --env-file sluice.env -p 8080:8080 sluice            # one process
#   docker run --env-file sluice.env sluice executor                 # an executor
# Configuration is environment only (see README, "Deploying").

# Build: every dependency (the postinstall step patches kafkajs), the web dashboard
# (Vite, into ui/dist), the CLI compiled into dist/ (which `sluice` runs while it matches
# src/: bin/compiled.js), then only production's dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY patches ./patches
COPY ui ./ui
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund && npm run ui:build && npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production \
    # Listen beyond the container's loopback: the API on 8080, /metrics, /healthz and
    # /readyz of an executor on 9464 and of a projector on 9465.
    SLUICE_API_HOST=0.0.0.0 \
    SLUICE_LOG_LEVEL=info
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/ui/dist ./ui/dist
COPY --from=build /app/dist ./dist
COPY package.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
COPY migrations ./migrations
# The official image's unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 8080 9464 9465
# Alive, not ready: /readyz is for a load balancer; a restart does not mend a lost dependency.
ENV SLUICE_HEALTH_URL=http://127.0.0.1:8080/healthz
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD ["node", "-e", "fetch(process.env.SLUICE_HEALTH_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/sluice.js"]
CMD ["run"]
