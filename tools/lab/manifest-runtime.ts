/**
 * How the manifests run the binaries, read from manifests/ itself: the flags their command gives `node` before
 * each main module, and the literal environment values of each container (`NODE_OPTIONS`: the V8 heap tuning and
 * `--expose-gc`). The lab runs its processes this way, and so do the benchmarks (tools/bench/product-env.ts).
 *
 * @example
 * spawn(node24, [...manifestNodeFlags("speaker"), "speaker/main.ts", ...flags], { env: { ...process.env, ...manifestEnv("speaker") } });
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

type ManifestContainer = { command?: string[]; env?: { name: string; value?: string }[] };

const parsed = new Map<"controller" | "speaker", ManifestContainer[]>();

/** The containers of `role`'s Deployment or DaemonSet, parsed once per process. */
function manifestContainers(role: "controller" | "speaker"): ManifestContainer[] {
  const cached = parsed.get(role);
  if (cached) return cached;
  const file = join(repoRoot, "manifests", role === "controller" ? "30-controller.yaml" : "40-speaker.yaml");
  const containers: ManifestContainer[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const o = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: ManifestContainer[] } } } } | null;
    if (o?.kind === "Deployment" || o?.kind === "DaemonSet") containers.push(...(o.spec?.template?.spec?.containers ?? []));
  }
  parsed.set(role, containers);
  return containers;
}

/**
 * The literal environment values (not the downward-API ones) the manifests give `role`'s container, such as
 * `NODE_OPTIONS` (the V8 heap tuning), read from manifests/ itself.
 */
export function manifestEnv(role: "controller" | "speaker"): Record<string, string> {
  const env: Record<string, string> = {};
  for (const c of manifestContainers(role)) for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/**
 * The flags the manifest's command gives `node` before `role`'s main module (V8 flags such as
 * `--optimize-for-size`, which NODE_OPTIONS does not accept, go there). Spawn `node24, ...manifestNodeFlags(role), main`.
 */
export function manifestNodeFlags(role: "controller" | "speaker"): string[] {
  const main = `${role}/main.ts`;
  for (const c of manifestContainers(role)) {
    const command = c.command ?? [];
    const at = command.indexOf(main);
    if (command[0] === "node" && at > 0) return command.slice(1, at);
  }
  throw new Error(`manifests/: no ${role} container runs ["node", ..., "${main}"]; the lab and the benchmarks run the binaries as the manifests do`);
}
