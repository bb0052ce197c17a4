# One image for every Herald process; docker-compose.yml picks the entry point.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/cli/package.json apps/cli/
COPY apps/dispatcher/package.json apps/dispatcher/
COPY apps/herald/package.json apps/herald/
COPY packages/config/package.json packages/config/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/sdk/package.json packages/sdk/
COPY packages/verify/package.json packages/verify/
# Without development dependencies: no embedded PostgreSQL, Biome or Vitest; the processes run
# against DATABASE_URL. No install script runs (allowScripts approves none of what remains).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY apps apps
COPY packages packages
COPY migrations migrations
USER node
EXPOSE 8080
CMD ["node", "apps/herald/src/api.ts"]
