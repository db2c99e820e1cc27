# One image for every process of the product; docker-compose.yml picks the entry point.
# tsx runs the TypeScript sources directly (no build step to drift from what the tests ran).
FROM node:20-bookworm-slim
ENV NODE_ENV=production LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY command-service/package.json command-service/
COPY projector/package.json projector/
COPY query-service/package.json query-service/
COPY webhook-dispatcher/package.json webhook-dispatcher/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.base.json tsconfig.json ./
COPY shared shared
COPY command-service command-service
COPY projector projector
COPY query-service query-service
COPY webhook-dispatcher webhook-dispatcher
USER node
# Override per service, e.g. `node --import tsx query-service/src/main.ts`.
CMD ["node", "--import", "tsx", "command-service/src/main.ts"]
