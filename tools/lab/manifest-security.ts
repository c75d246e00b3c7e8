/**
 * The controller's and the speaker's containers as manifests/ declares them, turned into `podman run` flags:
 * the command, the env (downward-API fields filled in from the lab's pod), hostNetwork, and the security context
 * (pod level, overridden per container, as the kubelet merges them):
 *   runAsUser/runAsGroup         → --user UID[:GID]   (runAsNonRoot with UID 0 refuses to start, as the kubelet does)
 *   readOnlyRootFilesystem: true → --read-only --read-only-tmpfs=false   (no writable /tmp: Kubernetes mounts none)
 *   capabilities drop/add        → --cap-drop/--cap-add
 *   allowPrivilegeEscalation: false → --security-opt no-new-privileges
 *   seccompProfile RuntimeDefault → podman's default profile; Unconfined → --security-opt seccomp=unconfined
 * A field this module does not map is an error naming it, so a manifest change cannot silently go untested.
 *
 * @example
 * const w = await manifestWorkloads("manifests");
 * podmanSecurityArgs(w.speaker.security); // ["--user", "0:0", "--read-only", ..., "--cap-add", "NET_RAW", ...]
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** The security settings of one container, merged from the pod's and the container's securityContext. */
export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot: boolean;
  readOnlyRootFilesystem: boolean;
  capDrop: string[];
  capAdd: string[];
  /** allowPrivilegeEscalation: false */
  noNewPrivileges: boolean;
  privileged: boolean;
  seccomp?: "RuntimeDefault" | "Unconfined";
  supplementalGroups: number[];
}

/** An env entry: a literal value, or a downward-API field (`fieldRef.fieldPath`). */
export type EnvEntry = { name: string; value: string } | { name: string; fieldPath: string };

/** One workload's container as the manifest declares it. */
export interface ContainerSpec {
  /** "Deployment/controller" */
  workload: string;
  namespace: string;
  serviceAccountName: string;
  image: string;
  command: string[];
  /** The manifest's args, `$(VAR)` references unexpanded. */
  args: string[];
  env: EnvEntry[];
  hostNetwork: boolean;
  security: ContainerSecurity;
}

/** The lab's controller and speaker containers. */
export interface ManifestWorkloads {
  controller: ContainerSpec;
  speaker: ContainerSpec;
}

type Obj = Record<string, unknown>;

const podKeys = new Set(["runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "supplementalGroups"]);
const containerKeys = new Set([
  "runAsUser",
  "runAsGroup",
  "runAsNonRoot",
  "seccompProfile",
  "readOnlyRootFilesystem",
  "allowPrivilegeEscalation",
  "capabilities",
  "privileged",
]);

function checkKeys(where: string, ctx: Obj, known: Set<string>): void {
  for (const key of Object.keys(ctx)) {
    if (!known.has(key)) throw new Error(`${where}: securityContext.${key} is not mapped to podman; map it in tools/lab/manifest-security.ts`);
  }
}

function seccompOf(where: string, ctx: Obj): ContainerSecurity["seccomp"] {
  const profile = ctx.seccompProfile as { type?: string } | undefined;
  if (!profile) return undefined;
  if (profile.type === "RuntimeDefault" || profile.type === "Unconfined") return profile.type;
  throw new Error(`${where}: seccompProfile type ${String(profile.type)} is not mapped to podman (RuntimeDefault and Unconfined are)`);
}

/**
 * Merges a pod's and a container's securityContext (the container's fields win), as the kubelet does.
 *
 * @example
 * mergeSecurity("Deployment/controller", { runAsUser: 65532 }, { readOnlyRootFilesystem: true }).runAsUser; // 65532
 */
export function mergeSecurity(where: string, pod: Obj = {}, container: Obj = {}): ContainerSecurity {
  checkKeys(`${where} (pod)`, pod, podKeys);
  checkKeys(`${where} (container)`, container, containerKeys);
  const pick = <T>(key: string): T | undefined => (container[key] ?? pod[key]) as T | undefined;
  const caps = (container.capabilities ?? {}) as { drop?: string[]; add?: string[] };
  return {
    runAsUser: pick<number>("runAsUser"),
    runAsGroup: pick<number>("runAsGroup"),
    runAsNonRoot: pick<boolean>("runAsNonRoot") ?? false,
    readOnlyRootFilesystem: (container.readOnlyRootFilesystem as boolean | undefined) ?? false,
    capDrop: caps.drop ?? [],
    capAdd: caps.add ?? [],
    noNewPrivileges: container.allowPrivilegeEscalation === false,
    privileged: (container.privileged as boolean | undefined) ?? false,
    seccomp: seccompOf(where, container.seccompProfile ? container : pod),
    supplementalGroups: (pod.supplementalGroups as number[] | undefined) ?? [],
  };
}

/**
 * The `podman run` flags for a container's security. `imageUser` is the image's USER ("65532:65532"), which runs
 * when the manifest sets no runAsUser; runAsNonRoot then needs it to be numeric and non-zero, as the kubelet checks.
 *
 * @example
 * podmanSecurityArgs({ ...defaults, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true });
 * // ["--user", "65532:65532", "--read-only", "--read-only-tmpfs=false"]
 */
export function podmanSecurityArgs(s: ContainerSecurity, imageUser = ""): string[] {
  const args: string[] = [];
  if (s.runAsUser !== undefined) args.push("--user", s.runAsGroup !== undefined ? `${s.runAsUser}:${s.runAsGroup}` : String(s.runAsUser));
  else if (s.runAsGroup !== undefined) throw new Error("runAsGroup without runAsUser is not mapped to podman; set runAsUser too");
  if (s.runAsNonRoot) {
    const uid = s.runAsUser ?? (/^\d+/.exec(imageUser) ? Number(/^\d+/.exec(imageUser)![0]) : undefined);
    if (uid === undefined) throw new Error(`runAsNonRoot: the image's user "${imageUser}" is not numeric, so it cannot be verified as non-root (the kubelet refuses it too)`);
    if (uid === 0) throw new Error("runAsNonRoot: the container would run as root (UID 0); the kubelet refuses to start it");
  }
  if (s.readOnlyRootFilesystem) args.push("--read-only", "--read-only-tmpfs=false");
  for (const cap of s.capDrop) args.push("--cap-drop", cap);
  for (const cap of s.capAdd) args.push("--cap-add", cap);
  if (s.noNewPrivileges) args.push("--security-opt", "no-new-privileges");
  if (s.privileged) args.push("--privileged");
  if (s.seccomp === "Unconfined") args.push("--security-opt", "seccomp=unconfined");
  for (const gid of s.supplementalGroups) args.push("--group-add", String(gid));
  return args;
}

/** What the kubelet's downward API would give this pod. */
export interface PodFields {
  "metadata.name": string;
  "metadata.namespace": string;
  "metadata.uid": string;
  "spec.nodeName": string;
  "spec.serviceAccountName": string;
  "status.hostIP": string;
  "status.podIP": string;
}

/**
 * The container's environment as `NAME=value` pairs, downward-API fields filled from `pod`; an unknown field
 * path is an error naming it.
 *
 * @example
 * podEnv([{ name: "NODE_NAME", fieldPath: "spec.nodeName" }], pod); // ["NODE_NAME=node-1"]
 */
export function podEnv(env: EnvEntry[], pod: PodFields): string[] {
  return env.map((e) => {
    if ("value" in e) return `${e.name}=${e.value}`;
    const value = (pod as unknown as Record<string, string | undefined>)[e.fieldPath];
    if (value === undefined) throw new Error(`env ${e.name}: fieldRef ${e.fieldPath} is not filled in by the lab; add it to PodFields`);
    return `${e.name}=${value}`;
  });
}

/**
 * Expands `$(VAR)` in an arg from the container's env, as the kubelet does; `$$(VAR)` stays literal `$(VAR)`,
 * an unknown VAR stays as written.
 *
 * @example
 * expandArgs(["--metrics-host=$(HOST_IP)"], ["HOST_IP=10.0.0.1"]); // ["--metrics-host=10.0.0.1"]
 */
export function expandArgs(args: string[], env: string[]): string[] {
  const vars = new Map(env.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  return args.map((arg) => arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (name === undefined ? "$" : (vars.get(name) ?? m))));
}

function containerSpec(w: Obj, file: string): ContainerSpec {
  const meta = (w.metadata ?? {}) as { name?: string; namespace?: string };
  const where = `${file}: ${String(w.kind)}/${meta.name ?? "?"}`;
  const pod = ((w.spec as Obj | undefined)?.template as Obj | undefined)?.spec as Obj | undefined;
  const containers = (pod?.containers ?? []) as Obj[];
  if (containers.length !== 1) throw new Error(`${where}: expected one container, found ${containers.length}`);
  const c = containers[0];
  const command = (c.command ?? []) as string[];
  if (command.length === 0) throw new Error(`${where}: the container has no command; the lab runs what the manifest's command says`);
  const env = ((c.env ?? []) as Obj[]).map((e): EnvEntry => {
    const fieldPath = ((e.valueFrom as Obj | undefined)?.fieldRef as { fieldPath?: string } | undefined)?.fieldPath;
    if (fieldPath) return { name: String(e.name), fieldPath };
    if (typeof e.value === "string") return { name: String(e.name), value: e.value };
    throw new Error(`${where}: env ${String(e.name)} is neither a value nor a fieldRef; map it in tools/lab/manifest-security.ts`);
  });
  return {
    workload: `${String(w.kind)}/${meta.name ?? "?"}`,
    namespace: meta.namespace ?? "default",
    serviceAccountName: typeof pod?.serviceAccountName === "string" ? pod.serviceAccountName : "default",
    image: String(c.image),
    command,
    args: ((c.args ?? []) as unknown[]).map(String),
    env,
    hostNetwork: pod?.hostNetwork === true,
    security: mergeSecurity(where, (pod?.securityContext ?? {}) as Obj, (c.securityContext ?? {}) as Obj),
  };
}

/**
 * The controller Deployment's and the speaker DaemonSet's containers from YAML texts (pure).
 *
 * @example
 * workloadsFromYaml([{ file: "30-controller.yaml", text }, { file: "40-speaker.yaml", text: speakerText }]);
 */
export function workloadsFromYaml(files: { file: string; text: string }[]): ManifestWorkloads {
  const found: { Deployment: ContainerSpec[]; DaemonSet: ContainerSpec[] } = { Deployment: [], DaemonSet: [] };
  for (const { file, text } of files) {
    for (const doc of parseAllDocuments(text)) {
      const w = doc.toJS() as Obj | null;
      if (w && (w.kind === "Deployment" || w.kind === "DaemonSet")) found[w.kind].push(containerSpec(w, file));
    }
  }
  const one = (kind: "Deployment" | "DaemonSet", role: string) => {
    if (found[kind].length !== 1) throw new Error(`manifests: expected exactly one ${kind} (the ${role}), found ${found[kind].length}`);
    return found[kind][0];
  };
  return { controller: one("Deployment", "controller"), speaker: one("DaemonSet", "speaker") };
}

/** Reads every *.yaml in `dir` (as `kubectl apply -f dir/` does) and returns the two workloads' containers. */
export async function manifestWorkloads(dir: string): Promise<ManifestWorkloads> {
  const names = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  return workloadsFromYaml(await Promise.all(names.map(async (file) => ({ file, text: await readFile(join(dir, file), "utf8") }))));
}
