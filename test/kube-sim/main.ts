/**
 * CLI of the simulator: `npm run kube-sim -- --port PORT --kubeconfig PATH [--host ADDR] [--tls] [--rbac]
 * [--issue-kubeconfig NAMESPACE:SERVICEACCOUNT=PATH ...]`. `--rbac` enforces the Roles, ClusterRoles and bindings
 * stored in the simulator for every user outside system:masters (the admin kubeconfig stays allowed everything);
 * each `--issue-kubeconfig` writes a kubeconfig for that ServiceAccount before the "listening" line.
 * Runs in the foreground, writes an admin kubeconfig to PATH, prints exactly one line
 * `kube-sim listening on http://ADDR:PORT` (https:// with --tls) once ready, and exits 0 on SIGTERM or SIGINT.
 *
 * @example
 * npx node test/kube-sim/main.ts --port 0 --kubeconfig /tmp/kc
 */
import { parseArgs } from "node:util";
import { parseKubeconfigRequest, type KubeconfigRequest } from "./service-account-kubeconfig.ts";

const usage =
  "usage: kube-sim --port PORT --kubeconfig PATH [--host ADDR] [--tls] [--rbac] [--issue-kubeconfig NAMESPACE:SERVICEACCOUNT=PATH ...]   (PORT 0 picks a free port; ADDR defaults to 127.0.0.1; --tls serves https:// with a generated CA; --rbac enforces the stored RBAC objects)";

function fail(message: string): never {
  process.stderr.write(`kube-sim: ${message}\n${usage}\n`);
  process.exit(2);
}

function parse(): { port: number; kubeconfig: string; host: string; tls: boolean; rbac: boolean; issue: KubeconfigRequest[] } {
  let values: { port?: string; kubeconfig?: string; host?: string; help?: boolean; tls?: boolean; rbac?: boolean; "issue-kubeconfig"?: string[] };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        kubeconfig: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        tls: { type: "boolean", default: false },
        rbac: { type: "boolean", default: false },
        "issue-kubeconfig": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  if (values.port === undefined) fail("--port is required");
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) fail(`--port must be an integer 0-65535, got "${values.port}"`);
  if (!values.kubeconfig) fail("--kubeconfig is required (the path to write the admin kubeconfig to)");
  let issue: KubeconfigRequest[] = [];
  try {
    issue = (values["issue-kubeconfig"] ?? []).map(parseKubeconfigRequest);
  } catch (e) {
    fail((e as Error).message);
  }
  return { port: Number(values.port), kubeconfig: values.kubeconfig, host: values.host ?? "127.0.0.1", tls: values.tls === true, rbac: values.rbac === true, issue };
}

const args = parse();
try {
  // Loaded after the flags are checked, so a usage error answers at once.
  const { startKubeSim } = await import("./index.ts");
  const { RbacAuthorizer } = await import("./rbac-authorizer.ts");
  const rbac = args.rbac ? new RbacAuthorizer() : undefined;
  const sim = await startKubeSim({ port: args.port, host: args.host, kubeconfigPath: args.kubeconfig, tls: args.tls, authorize: rbac?.authorize });
  rbac?.attach(sim.state);
  for (const { path, user } of args.issue) await sim.issueKubeconfig(path, user);
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    sim.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`kube-sim: error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.stdout.write(`kube-sim listening on ${sim.url}\n`);
} catch (e) {
  process.stderr.write(`kube-sim: ${(e as Error).message}\n`);
  process.exit(1);
}
