# FrameMind: HTTP + MCP video QA on the embedded model (CPU only).
FROM node:20-bookworm-slim
# The -dev packages, pkg-config and a compiler build the optional in-process decoder (native/libav)
# during `npm ci`; without them npm skips it and frames come from the ffmpeg CLI.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config build-essential python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY src ./src
COPY tools ./tools
COPY prompts ./prompts
COPY datasets ./datasets
COPY models ./models
COPY bench ./bench
COPY native ./native
RUN npm ci && npm prune --omit=dev
ENV NODE_ENV=production
# The allowed root for server-side paths; mount videos here (-v $PWD/videos:/data).
RUN mkdir -p /data
VOLUME /data
EXPOSE 8080
# Binds a non-loopback address, so an API key is required: pass FRAMEMIND_API_KEY at run time.
CMD ["node", "dist/src/cli/framemind.js", "serve", "--host", "0.0.0.0", "--port", "8080", "--roots", "/data"]
