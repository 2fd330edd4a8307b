# The Conveyor worker image, for docker-compose.yml (users with access to a container registry).
# It runs workflows and container steps; the host's Docker socket is mounted so steps run as sibling containers.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN bash scripts/build --force
ENV CONVEYOR_DATA_DIR=/data
CMD ["node", "dist/workers/main.js"]
