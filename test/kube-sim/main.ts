/**
 * CLI of the simulator: `npm run kube-sim -- --port PORT --kubeconfig PATH [--host ADDR]`.
 * Runs in the foreground, writes an admin kubeconfig to PATH, prints exactly one line
 * `kube-sim listening on http://ADDR:PORT` once ready, and exits 0 on SIGTERM or SIGINT.
 *
 * @example
 * npx node test/kube-sim/main.ts --port 0 --kubeconfig /tmp/kc
 */
import { parseArgs } from "node:util";

const usage = "usage: kube-sim --port PORT --kubeconfig PATH [--host ADDR]   (PORT 0 picks a free port; ADDR defaults to 127.0.0.1)";

function fail(message: string): never {
  process.stderr.write(`kube-sim: ${message}\n${usage}\n`);
  process.exit(2);
}

function parse(): { port: number; kubeconfig: string; host: string } {
  let values: { port?: string; kubeconfig?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        kubeconfig: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
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
  return { port: Number(values.port), kubeconfig: values.kubeconfig, host: values.host ?? "127.0.0.1" };
}

const args = parse();
try {
  // Loaded after the flags are checked, so a usage error answers at once.
  const { startKubeSim } = await import("./index.ts");
  const sim = await startKubeSim({ port: args.port, host: args.host, kubeconfigPath: args.kubeconfig });
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
