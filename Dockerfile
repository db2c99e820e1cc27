# One image for every process of the product; docker-compose.yml picks the entry point.
# The build stage installs, compiles each service to one JavaScript file (`npm run build`) and
# prunes the development dependencies; the image keeps only that: plain Node, the production
# dependencies and the compiled files.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY command-service/package.json command-service/
COPY projector/package.json projector/
COPY query-service/package.json query-service/
COPY webhook-dispatcher/package.json webhook-dispatcher/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY scripts scripts
COPY shared shared
COPY command-service command-service
COPY projector projector
COPY query-service query-service
COPY webhook-dispatcher webhook-dispatcher
COPY web web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
  && mkdir /out && for service in command-service query-service projector webhook-dispatcher; do \
    mkdir -p /out/$service && cp -r $service/dist $service/package.json /out/$service/ \
    && if [ -d $service/node_modules ]; then cp -r $service/node_modules /out/$service/; fi; \
  done \
  && mkdir -p /out/web && cp -r web/dist web/dist-server web/package.json /out/web/ \
  && if [ -d web/node_modules ]; then cp -r web/node_modules /out/web/; fi

FROM node:20-bookworm-slim
ENV NODE_ENV=production LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /out ./
USER node
# Override per service, e.g. `node --enable-source-maps query-service/dist/main.js`; the admin CLI
# is `node projector/dist/admin.js`; the web client's server `node web/dist-server/main.js`.
CMD ["node", "--enable-source-maps", "command-service/dist/main.js"]
