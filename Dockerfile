# The streamcast instance image used by docker-compose.yml: TypeScript run by tsx, no build step
# (the console in console/ is bundled by esbuild when the instance starts).
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY src ./src
COPY console ./console
COPY tsconfig.json ./
USER node
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/main.ts"]
