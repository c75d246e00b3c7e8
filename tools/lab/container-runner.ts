/**
 * The lab's `--image` mode: runs the controller and each speaker as a container of the image `npm run image`
 * built, the way the manifests declare them (manifest-security.ts): their command and args (the lab's flags
 * appended), env with the downward-API fields filled in, the security context as podman flags, the speaker's
 * hostNetwork as `--network ns:/run/netns/<node namespace>` and the controller in the infra namespace. The
 * ServiceAccount kubeconfig the lab issued is mounted read-only, owned by the container's user (as the kubelet
 * does for a projected token). Container output is the podman client's output, so it reaches the lab's logs.
 *
 * @example
 * const runner = await containerRunner({ engine: podmanEngine(), image, workloads: await manifestWorkloads("manifests"), prefix: "blbimg" });
 * const lab = await startLabCluster({ ..., runner });
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { chown, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Workload, WorkloadRunner } from "./lab-cluster.ts";
import { podmanEngine, type Engine } from "../container-engine.ts";
import { projectImage } from "../image-ref.ts";
import { expandArgs, podEnv, podmanSecurityArgs, type ContainerSpec, type ManifestWorkloads, type PodFields } from "./manifest-security.ts";

/** Where the container finds its ServiceAccount kubeconfig. */
export const kubeconfigMountPath = "/var/run/secrets/baremetal-lb/kubeconfig";

/** The label on every container the lab starts, with the lab's prefix as its value (for cleanup). */
export const labLabel = "io.baremetal-lb.lab";

/** Everything one `podman run` needs. */
export interface ContainerPlan {
  name: string;
  prefix: string;
  image: string;
  /** The image's USER (for runAsNonRoot when the manifest sets no runAsUser). */
  imageUser: string;
  spec: ContainerSpec;
  /** The network namespace to join (the node's for hostNetwork, else the infra namespace). */
  netns: string;
  pod: PodFields;
  /** The lab's flags for the binary, appended to the manifest's args; `--kubeconfig PATH` becomes the mount. */
  labArgs: string[];
}

/**
 * The `podman run` arguments (after `podman`) for a plan, and the kubeconfig on the host it mounts. Pure.
 *
 * @example
 * containerRunArgs(plan).args; // ["run", "--rm", "--pull=never", "--name", "blbimg-speaker-node-1", ...]
 */
export function containerRunArgs(p: ContainerPlan): { args: string[]; kubeconfig?: string } {
  const labArgs = [...p.labArgs];
  let kubeconfig: string | undefined;
  const at = labArgs.indexOf("--kubeconfig");
  if (at !== -1) {
    kubeconfig = labArgs[at + 1];
    labArgs[at + 1] = kubeconfigMountPath;
  }
  const env = podEnv(p.spec.env, p.pod);
  return {
    kubeconfig,
    args: [
      "run",
      "--rm",
      "--pull=never",
      "--name",
      p.name,
      "--label",
      `${labLabel}=${p.prefix}`,
      "--network",
      `ns:/run/netns/${p.netns}`,
      // A hostNetwork Pod has its node's hostname; another Pod its own name.
      "--hostname",
      p.spec.hostNetwork ? p.pod["spec.nodeName"] : p.pod["metadata.name"],
      ...podmanSecurityArgs(p.spec.security, p.imageUser),
      ...env.flatMap((e) => ["--env", e]),
      ...(kubeconfig ? ["--volume", `${kubeconfig}:${kubeconfigMountPath}:ro`] : []),
      "--entrypoint",
      JSON.stringify(p.spec.command),
      p.image,
      ...expandArgs(p.spec.args, env),
      ...labArgs,
    ],
  };
}

/** The pino `time` of a log line (ISO), in epoch ms; undefined for a line that is not JSON with a time. */
export function lineTime(line: string): number | undefined {
  try {
    const t = (JSON.parse(line) as { time?: unknown }).time;
    const ms = typeof t === "string" ? Date.parse(t) : typeof t === "number" ? t : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** The container runner plus what the lab reports about it. */
export interface ContainerRunner extends WorkloadRunner {
  image: string;
  /** The container name of a workload: "<prefix>-controller", "<prefix>-speaker-<node>". */
  containerName(role: Workload["role"], node?: string): string;
  /** The last `podman run` command line per container name, for the lab's output. */
  commands: Map<string, string>;
  /** When the container started (epoch ms, podman's State.StartedAt), once it has. */
  startedAt(name: string): Promise<number | undefined>;
  /** Removes every container the lab started under this prefix (also ones an earlier, killed run left). */
  removeAll(): Promise<void>;
  /** The names of the containers under this prefix that exist now. */
  names(): Promise<string[]>;
}

/** Facts about a started container, learned from `podman inspect` while it starts. */
interface Started {
  pid?: number;
  startedAt: Promise<number | undefined>;
}

/**
 * A WorkloadRunner that runs containers of `image` with podman (see the module comment).
 *
 * @example
 * const runner = await containerRunner({ engine, image: "ghcr.io/baremetal-lb/baremetal-lb:0.1.0", workloads, prefix: "blbimg" });
 */
export async function containerRunner(o: { engine: Engine; image: string; workloads: ManifestWorkloads; prefix: string }): Promise<ContainerRunner> {
  const { engine, image, prefix } = o;
  const imageUser = (await engine.mustRun(["image", "inspect", "--format", "{{.Config.User}}", image])).trim();
  const [imageUid, imageGid] = imageUser.split(":").map((id) => (/^\d+$/.test(id) ? Number(id) : undefined));
  const started = new Map<string, Started>();
  const commands = new Map<string, string>();
  const containerName = (role: Workload["role"], node?: string) => (role === "controller" ? `${prefix}-controller` : `${prefix}-speaker-${node ?? "?"}`);

  /** Polls podman until the container runs (its host PID and start time) or the client exits. */
  const watchStart = (name: string, exited: () => boolean): Started => {
    const info: Started = { startedAt: Promise.resolve(undefined) };
    info.startedAt = (async () => {
      const deadline = Date.now() + 60_000;
      while (!exited() && Date.now() < deadline) {
        const r = await engine.run(["container", "inspect", "--format", "{{.State.Pid}} {{.State.StartedAt.UnixMilli}}", name]);
        const [pid, at] = r.stdout.trim().split(" ").map(Number);
        if (r.code === 0 && pid > 0) {
          info.pid = pid;
          return at;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return undefined;
    })();
    return info;
  };

  const names = async () =>
    (await engine.mustRun(["ps", "--all", "--format", "{{.Names}}", "--filter", `label=${labLabel}=${prefix}`])).split("\n").filter(Boolean);
  const removeAll = async () => {
    const left = await names();
    if (left.length > 0) await engine.run(["rm", "--force", "--time", "0", "--ignore", ...left], { timeoutMs: 60_000 });
  };

  return {
    image,
    containerName,
    commands,
    startedAt: async (name) => started.get(name)?.startedAt,
    removeAll,
    names,
    async start(w) {
      const spec = o.workloads[w.role];
      const name = containerName(w.role, w.node?.name);
      const hostIp = w.node?.ipv4 ?? "";
      const pod: PodFields = {
        "metadata.name": w.role === "controller" ? `controller-${randomBytes(5).toString("hex")}-${randomBytes(3).toString("hex").slice(0, 5)}` : `speaker-${randomBytes(3).toString("hex").slice(0, 5)}`,
        "metadata.namespace": spec.namespace,
        "metadata.uid": randomUUID(),
        "spec.nodeName": w.node?.name ?? "infra",
        "spec.serviceAccountName": spec.serviceAccountName,
        "status.hostIP": hostIp,
        "status.podIP": hostIp,
      };
      const { args, kubeconfig } = containerRunArgs({ name, prefix, image, imageUser, spec, netns: w.ns, pod, labArgs: w.args });
      // The kubelet makes a projected token readable by the container's user; the lab's kubeconfig is root's 0600.
      const uid = spec.security.runAsUser ?? imageUid ?? 0;
      if (kubeconfig) await chown(kubeconfig, uid, spec.security.runAsGroup ?? imageGid ?? uid);
      // A container of this name may still be on its way out (a restart right after a kill).
      await engine.run(["rm", "--force", "--time", "0", "--ignore", name]);
      commands.set(name, [...engine.argv, ...args].join(" "));
      const child = spawn(engine.argv[0], [...engine.argv.slice(1), ...args], { env: engine.env, stdio: ["ignore", "pipe", "pipe"] });
      const info = watchStart(name, () => child.exitCode !== null || child.signalCode !== null);
      started.set(name, info);
      return {
        child,
        kill(signal) {
          if (info.pid === undefined) return void engine.run(["kill", "--signal", signal, name]);
          try {
            process.kill(info.pid, signal);
          } catch {
            // already gone
          }
        },
      };
    },
    stop: removeAll,
  };
}

/** The image the manifests name (tools/image-ref.ts), read from the checkout at `repo`. */
export async function labImage(repo: string): Promise<string> {
  const read = (file: string) => readFile(join(repo, file), "utf8");
  return projectImage({ controllerYaml: await read("manifests/30-controller.yaml"), speakerYaml: await read("manifests/40-speaker.yaml"), packageJson: await read("package.json") }).ref;
}

/**
 * Podman and the image for `lab --image`, or why the lab cannot run them here: podman missing, the image not
 * built (run npm run image), or podman unable to start a container of it.
 *
 * @example
 * const image = await prepareImageLab(repo);
 * if (typeof image === "string") throw new Error(image);
 */
export async function prepareImageLab(repo: string): Promise<{ ref: string; engine: Engine; node: string } | string> {
  let engine: Engine;
  try {
    engine = podmanEngine();
  } catch (err) {
    return `lab --image runs the controller and the speakers with podman: ${(err as Error).message}`;
  }
  const ref = await labImage(repo);
  if ((await engine.run(["image", "exists", ref])).code !== 0) return `the image ${ref} is not built here: run npm run image first`;
  const r = await engine.run(["run", "--rm", "--pull=never", "--network", "none", "--entrypoint", '["node","--version"]', ref], { timeoutMs: 60_000 });
  if (r.code !== 0) return `podman cannot start a container of ${ref}: ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" ")}`;
  return { ref, engine, node: r.stdout.trim() };
}
