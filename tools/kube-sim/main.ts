/**
 * CLI of the simulator: `npm run kube-sim -- --port PORT --kubeconfig PATH [--host ADDR] [--tls] [--rbac]
 * [--issue-kubeconfig NAMESPACE:SERVICEACCOUNT=PATH ...]`. `--rbac` enforces the Roles, ClusterRoles and bindings
 * stored in the simulator for every user outside system:masters (the admin kubeconfig stays allowed everything);
 * each `--issue-kubeconfig` writes a kubeconfig for that ServiceAccount before the "listening" line.
 * Runs in the foreground, writes an admin kubeconfig to PATH, prints exactly one line
 * `kube-sim listening on http://ADDR:PORT` (https:// with --tls) once ready, and exits 0 on SIGTERM or SIGINT.
 *
 * @example
 * npx node tools/kube-sim/main.ts --port 0 --kubeconfig /tmp/kc
 */
import { defineCommand, parseFlags } from "../../shared/cli/parse-flags.ts";
import { exitWithUsageIfAsked, shortUsage } from "../../shared/cli/usage.ts";
import { parseKubeconfigRequest, type KubeconfigRequest } from "./service-account-kubeconfig.ts";

/** The simulator's command line: every flag, what it does and its default (the parser and `--help` read this). */
export const kubeSimCommand = defineCommand({
  program: "kube-sim",
  synopsis: "npm run kube-sim -- --port PORT --kubeconfig PATH [--host ADDR] [--tls] [--rbac] [--issue-kubeconfig NS:SA=PATH ...]",
  summary:
    "The in-repo Kubernetes API simulator, in the foreground: writes an admin kubeconfig to PATH, prints one line " +
    "`kube-sim listening on http://ADDR:PORT` once ready, and exits 0 on SIGTERM or SIGINT.",
  flags: {
    port: { type: "string", value: "PORT", required: true, help: "port to listen on; 0 picks a free one" },
    kubeconfig: { type: "string", value: "PATH", required: true, help: "where to write the admin kubeconfig" },
    host: { type: "string", value: "ADDR", default: "127.0.0.1", help: "address to listen on" },
    tls: { type: "boolean", default: false, help: "serve https:// with a generated CA (in the kubeconfig)" },
    rbac: { type: "boolean", default: false, help: "enforce the stored Roles, ClusterRoles and bindings for every user outside system:masters" },
    "issue-kubeconfig": {
      type: "string",
      value: "NAMESPACE:SERVICEACCOUNT=PATH",
      multiple: true,
      help: "write a kubeconfig for that ServiceAccount to PATH before the listening line",
      defaultText: "none",
    },
  },
});

function fail(message: string): never {
  process.stderr.write(`kube-sim: ${message.replace(/^kube-sim: /, "")}\n${shortUsage(kubeSimCommand)}\n`);
  process.exit(2);
}

function parse(argv: string[]): { port: number; kubeconfig: string; host: string; tls: boolean; rbac: boolean; issue: KubeconfigRequest[] } {
  exitWithUsageIfAsked(argv, kubeSimCommand);
  let values;
  try {
    values = parseFlags(argv, kubeSimCommand);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) fail(`--port must be an integer 0-65535, got "${values.port}"`);
  let issue: KubeconfigRequest[] = [];
  try {
    issue = (values["issue-kubeconfig"] ?? []).map(parseKubeconfigRequest);
  } catch (e) {
    fail((e as Error).message);
  }
  return { port: Number(values.port), kubeconfig: values.kubeconfig, host: values.host, tls: values.tls, rbac: values.rbac, issue };
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
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
}

if (import.meta.main) await main();
