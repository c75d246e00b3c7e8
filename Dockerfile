# One image, two programs: the controller (`node controller/main.ts`, the default) and the speaker
# (`node speaker/main.ts`). Node 24 runs the TypeScript sources directly (type stripping): there is no
# compile step, only the speaker's native addon to build.
#
#   docker build -t ghcr.io/baremetal-lb/baremetal-lb:0.1.0 .     # tag = package.json "version"
#   docker run --rm ghcr.io/baremetal-lb/baremetal-lb:0.1.0 speaker/main.ts --node-name NODE --kubeconfig PATH
#
# The manifests (manifests/30-controller.yaml, 40-speaker.yaml) name this image and set the command.

# ---- build: dependencies and the packet-socket addon --------------------------------------------------------
FROM node:24-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# node-gyp takes the Node headers from the base image instead of downloading them.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
COPY speaker/native/ speaker/native/
# `npm ci` installs everything (the build needs the devDependency node-addon-api) and runs the package's
# install script, `node-gyp rebuild --directory=speaker/native`, which builds
# speaker/native/build/Release/packet_socket.node (Node-API, so any Node 24 loads it). Then the dev
# dependencies go: the runtime imports only the "dependencies". The devDependency `node` (Node 24 for
# development machines whose system node is older) goes too; the image runs the base image's Node 24.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f speaker/native/build/Release/packet_socket.node

# ---- runtime -------------------------------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/speaker/native/build/Release/packet_socket.node speaker/native/build/Release/packet_socket.node
COPY package.json ./
COPY shared/ shared/
COPY controller/ controller/
COPY speaker/ speaker/
# Node's on-disk compile cache holds the type-stripped sources and V8 code of every module the two programs
# import, so at start Node neither loads its TypeScript stripper (about 17 MB resident) nor compiles: measured
# 61 -> 44 MB RSS for a bare .ts file. Entries are per user id, so the cache is filled for root (the speaker)
# and for 65532 (the controller). `--help` links every static import (which compiles it) and exits. A
# read-only root filesystem is fine: the cache is only read then.
ENV NODE_COMPILE_CACHE=/var/cache/baremetal-lb/node-compile-cache
RUN mkdir -p "$NODE_COMPILE_CACHE" && chmod 1777 "$NODE_COMPILE_CACHE" \
 && node controller/main.ts --help >/dev/null && node speaker/main.ts --help >/dev/null
# A numeric non-root user, so `runAsNonRoot` can verify it. The controller runs as this user; the speaker's
# manifest runs it as root with only NET_RAW (see manifests/40-speaker.yaml for why). Files stay owned by
# root and read-only for both.
USER 65532:65532
RUN node controller/main.ts --help >/dev/null && node speaker/main.ts --help >/dev/null
ENTRYPOINT ["node"]
CMD ["controller/main.ts"]
