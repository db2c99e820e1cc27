# One image for every process of the product; docker-compose.yml picks the entry point.
# The build stage compiles each service to one JavaScript file (`npm run build`); the image runs
# that with plain Node and only the production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY command-service/package.json command-service/
COPY projector/package.json projector/
COPY query-service/package.json query-service/
COPY webhook-dispatcher/package.json webhook-dispatcher/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY scripts scripts
COPY shared shared
COPY command-service command-service
COPY projector projector
COPY query-service query-service
COPY webhook-dispatcher webhook-dispatcher
RUN npm run build

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
COPY --from=build /app/command-service/dist command-service/dist
COPY --from=build /app/query-service/dist query-service/dist
COPY --from=build /app/projector/dist projector/dist
COPY --from=build /app/webhook-dispatcher/dist webhook-dispatcher/dist
USER node
# Override per service, e.g. `node --enable-source-maps query-service/dist/main.js`; the admin CLI
# is `node projector/dist/admin.js`.
CMD ["node", "--enable-source-maps", "command-service/dist/main.js"]
