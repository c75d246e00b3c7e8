/**
 * `sudo npm run lab -- [--keep] [--json] [--crd]`: the whole user story on one machine, for real, in network
 * namespaces it creates and removes. Seven steps (eight with --crd), a progress line each, then a summary table:
 *   1. the LAN (bridge, client, infra, three nodes) and the API simulator with three Nodes;
 *   2. `kubectl apply -f manifests/`, then the controller and a speaker per node under their ServiceAccounts;
 *   3. the pool ConfigMap (--crd: an IPAddressPool and an L2Advertisement), Deployment nginx,
 *      `kubectl expose ... --type=LoadBalancer`, `kubectl wait` for its IP;
 *   4. `arping` (one MAC, the elected node's) and `curl` the VIP from the client;
 *      (--crd) label a node and point the L2Advertisement's nodeSelectors at it: the VIP moves there, and back;
 *   5. kill the announcing node while curling the VIP every 50 ms: the failover gap;
 *   6. the strictARP check on an IPVS node without strictARP, and after the fix;
 *   7. tear everything down (or, with --keep, stay up until Ctrl-C and print how to explore).
 * With --image the controller and the speakers are containers of the image `npm run image` built, run with podman
 * under the manifests' security contexts (container-runner.ts), in namespaces blbimg-* instead of blblab-*.
 * Before the steps, as root where apt-get exists, it installs the Debian packages of the tools it lacks (not with
 * --no-install); elsewhere it prints the command to run. `--help` prints every flag (lab-flags.ts).
 * Exit status 0 only when every step passed; 2 for a usage error, when not root, or when tools are missing.
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitWithUsageIfAsked } from "../../shared/cli/usage.ts";
import { findOnPath } from "../support/find-on-path.ts";
import { exposeNginx, buildLan, installManifests } from "./install-steps.ts";
import { moveByNodeSelector } from "./crd-steps.ts";
import { failOver, reachVip, showStrictArp } from "./demo-steps.ts";
import { labCommand, labRootProblem, labUsage, parseLabFlags, type LabFlags } from "./lab-flags.ts";
import { prepareImageLab } from "./container-runner.ts";
import { newLabContext, type LabContext } from "./lab-context.ts";
import { ensureLabTools, runCommand } from "./tool-installer.ts";
import { labTools } from "./lab-tools.ts";
import { StepRunner, type StepBody } from "./step-runner.ts";
import { renderSummaryTable } from "./summary-table.ts";
import { exploreCommands, tearDown } from "./teardown.ts";

const repo = new URL("../../", import.meta.url).pathname;
const write = (text: string) => void process.stdout.write(text);

/** Tears the lab down outside the step runner (on a signal): prints what it did to stderr. */
async function emergencyTearDown(ctx: LabContext): Promise<void> {
  if (ctx.starting && !ctx.cluster) ctx.cluster = await ctx.starting.catch(() => undefined);
  try {
    await tearDown(ctx, (line) => void process.stderr.write(`${line}\n`));
  } catch (err) {
    process.stderr.write(`teardown: ${(err as Error).message}\n`);
  }
}

async function saveLogs(ctx: LabContext): Promise<void> {
  if (!ctx.cluster) return;
  const path = join(tmpdir(), `blb-lab-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
  await writeFile(path, ctx.cluster.logs());
  write(`controller and speaker logs: ${path}\n`);
}

async function runLab(flags: LabFlags): Promise<number> {
  // --image: podman and the image built by `npm run image`, checked before anything is created.
  const image = flags.image ? await prepareImageLab(repo) : undefined;
  if (typeof image === "string") {
    process.stderr.write(`${image}\n`);
    return 2;
  }
  const ctx = newLabContext({ manifestsDir: join(repo, "manifests"), crd: flags.crd, image });
  let interrupted = false;
  let tearingDown = false;
  let keepingUp: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (keepingUp) return keepingUp();
    if (tearingDown) return void process.stderr.write(`${signal}: already tearing down, one moment\n`);
    if (interrupted) {
      process.stderr.write(`${signal} again: exiting now; the next run removes what is left (or: ip netns del ${ctx.prefix}-...)\n`);
      process.exit(130);
    }
    // Tear down here; the step in progress may still fail noisily, so its output is dropped, and the main
    // flow stops after it (see step below) so that only this teardown runs.
    interrupted = true;
    process.stderr.write(`\n${signal}: tearing the lab down ...\n`);
    void emergencyTearDown(ctx).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const runner = new StepRunner(flags.crd ? 8 : 7, (text) => void (interrupted || write(text)));
  const step = async (name: string, body: StepBody, opts: { always?: boolean } = {}) => {
    await runner.run(name, body, opts);
    if (interrupted) await new Promise<never>(() => {});
  };
  const config = flags.crd ? "IPAddressPool + L2Advertisement" : "the ConfigMap";
  write(`baremetal-lb lab: 3 nodes, a client and the API simulator in network namespaces ${ctx.prefix}-*; pool from ${config}\n`);
  if (image) write(`controller and speakers: containers of ${image.ref} (node ${image.node}), run with ${image.engine.argv.join(" ")}${image.engine.notes.length > 0 ? `; ${image.engine.notes.join("; ")}` : ""}\n`);
  write("\n");
  await step("build the LAN, start the API simulator", (out) => buildLan(ctx, out));
  await step("kubectl apply -f manifests/, start controller + speakers", (out) => installManifests(ctx, out));
  await step(flags.crd ? "apply IPAddressPool + L2Advertisement, expose nginx" : "configure the pool, expose nginx as a LoadBalancer", (out) => exposeNginx(ctx, out));
  await step("arping + curl the VIP from the client", (out) => reachVip(ctx, out));
  if (flags.crd) await step("nodeSelectors: move the announcer to a labelled node", (out) => moveByNodeSelector(ctx, out));
  await step("kill the announcing node, measure the failover", (out) => failOver(ctx, out));
  await step("strictARP check: IPVS without strictARP, then fixed", (out) => showStrictArp(ctx, out));
  if (!runner.ok) await saveLogs(ctx);
  const keep = flags.keep && ctx.cluster !== undefined;
  if (keep) {
    await step("keep the lab up", async (out) => {
      out(exploreCommands(ctx));
      return "running until Ctrl-C";
    }, { always: true });
  } else {
    tearingDown = true;
    await step("tear down", (out) => tearDown(ctx, out), { always: true });
  }

  write(`\n${renderSummaryTable(runner.results)}\n`);
  if (ctx.vip) {
    write(`\nVIP ${ctx.vip}: answered by ${ctx.answeringNode ?? "?"} (${ctx.answeringMac ?? "?"}); `);
    if (ctx.selectedNode) write(`moved to ${ctx.selectedNode} by nodeSelectors; `);
    write(ctx.failoverMs !== undefined ? `failover to ${ctx.newNode} in ${ctx.failoverMs} ms\n` : "no failover measured\n");
  }
  write(runner.ok ? "\nall steps passed\n" : "\nsome steps FAILED\n");
  if (flags.json) {
    const summary = {
      ok: runner.ok,
      config: flags.crd ? "crd" : "configmap",
      image: ctx.image?.ref ?? null,
      vip: ctx.vip ?? null,
      answeringNode: ctx.answeringNode ?? null,
      answeringMac: ctx.answeringMac ?? null,
      failoverMs: ctx.failoverMs ?? null,
      newNode: ctx.newNode ?? null,
      ...(flags.crd ? { selectedNode: ctx.selectedNode ?? null } : {}),
      ...(ctx.image ? { readyMs: ctx.readyMs ?? null } : {}),
      steps: runner.results.map(({ name, ok, ms, detail }) => ({ name, ok, ms, detail })),
    };
    write(`${JSON.stringify(summary)}\n`);
  }
  if (keep) {
    // The simulator runs in this process: stay alive until Ctrl-C, then tear down (reporting on stderr, so
    // a --json summary stays the last line of stdout).
    await new Promise<void>((resolve) => (keepingUp = resolve));
    process.stderr.write("tearing the lab down ...\n");
    await emergencyTearDown(ctx);
  }
  return runner.ok ? 0 : 1;
}

async function main(): Promise<number> {
  exitWithUsageIfAsked(process.argv.slice(2), labCommand);
  let flags: LabFlags;
  try {
    flags = parseLabFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${labUsage}\n`);
    return 2;
  }
  const rootProblem = labRootProblem(process.getuid?.());
  if (rootProblem) process.stderr.write(`${rootProblem}\n`);
  // As root this installs what is missing (apt-get); otherwise it says what to run. Without root, stop either way.
  const toolStatus = await ensureLabTools({
    tools: flags.image ? [...labTools, "podman", "runc"] : labTools,
    noInstall: flags.noInstall,
    root: !rootProblem,
    hasTool: (tool) => findOnPath(tool) !== undefined,
    run: runCommand,
    say: (line) => write(`${line}\n`),
    warn: (line) => void process.stderr.write(`${line}\n`),
  });
  if (rootProblem || toolStatus !== undefined) return 2;
  return runLab(flags);
}

process.exit(await main());
