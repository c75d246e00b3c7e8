/**
 * What a test needs from the machine (root, programs on PATH, working network namespaces), and the one rule for
 * when it cannot have it: skip with a printed reason that names the missing program and its Debian package, except
 * under CI (`CI=true`), where the skip is a failure, so end-to-end coverage never disappears silently.
 *
 * @example
 * const skip = requireTools(["kubectl"]);
 * describe.skipIf(skip)("kubectl get against kube-sim", () => { ... });
 *
 * const skipNetns = await requireNetns(["arping", "curl"]);
 * describe.skipIf(skipNetns)("speaker end to end in network namespaces", () => { ... });
 */
import { debianPackages, describeTool } from "../../tools/support/debian-packages.ts";
import { findOnPath } from "../../tools/support/find-on-path.ts";

/** What a suite needs. `root: true` or a phrase saying why ("creates network namespaces"). */
export interface Needs {
  root?: boolean | string;
  tools?: readonly string[];
}

/** The facts about this machine that Needs are checked against. */
export interface Machine {
  uid: number | undefined;
  hasTool(tool: string): boolean;
}

/** Why a suite cannot run: the sentence to print, and the Debian packages that would fix the missing tools. */
export interface Unmet {
  reason: string;
  packages: string[];
}

/**
 * Why the needs are not met, or undefined when they are. Pure.
 *
 * @example
 * unmetNeeds({ tools: ["arping"] }, { uid: 0, hasTool: () => false });
 * // { reason: "needs arping (Debian package arping)", packages: ["arping"] }
 */
export function unmetNeeds(needs: Needs, machine: Machine): Unmet | undefined {
  const missing: string[] = [];
  if (needs.root && machine.uid !== 0) {
    const why = typeof needs.root === "string" ? `${needs.root}; ` : "";
    missing.push(`root (${why}running as uid ${machine.uid ?? "unknown"})`);
  }
  const tools = (needs.tools ?? []).filter((tool) => !machine.hasTool(tool));
  missing.push(...tools.map(describeTool));
  return missing.length > 0 ? { reason: `needs ${missing.join(", ")}`, packages: debianPackages(tools) } : undefined;
}

/** True when the environment says this is a CI run (`CI=true` or `CI=1`, as CI services set it). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  return /^(true|1)$/i.test(env.CI ?? "");
}

/** What to do about a suite: run it, skip it with a message, or fail (under CI) with a message. */
export type SkipDecision = { action: "run" } | { action: "skip"; message: string } | { action: "fail"; message: string };

/**
 * Decides, from why a suite cannot run (undefined: it can) and the environment, whether it runs, skips or fails. Pure.
 *
 * @example
 * skipDecision({ reason: "needs arping (Debian package arping)", packages: ["arping"] }, {});
 * // { action: "skip", message: "skipped: needs arping (Debian package arping)" }
 */
export function skipDecision(unmet: Unmet | undefined, env: NodeJS.ProcessEnv): SkipDecision {
  if (unmet === undefined) return { action: "run" };
  if (!isCi(env)) return { action: "skip", message: `skipped: ${unmet.reason}` };
  const fix = unmet.packages.length > 0 ? `; install with: apt-get install -y --no-install-recommends ${unmet.packages.join(" ")}` : "";
  return {
    action: "fail",
    message: `not skipped because CI=${env.CI ?? ""}: this suite ${unmet.reason}, and under CI a skipped test is a failure (coverage must not disappear silently)${fix}`,
  };
}

const printed = new Set<string>();

/**
 * Applies a decision at the edge: prints a skip message once per test file and returns true (skip), throws the
 * CI failure (failing the file at collection), or returns false (run).
 */
function apply(decision: SkipDecision): boolean {
  if (decision.action === "run") return false;
  if (decision.action === "fail") throw new Error(decision.message);
  if (!printed.has(decision.message)) {
    printed.add(decision.message);
    console.warn(decision.message);
  }
  return true;
}

const thisMachine = (): Machine => ({ uid: process.getuid?.(), hasTool: (tool) => findOnPath(tool) !== undefined });

/**
 * The skip decision for a suite with these needs, for `describe.skipIf(...)` / `it.skipIf(...)`: false when it can
 * run; true, after printing "skipped: needs …", when it cannot; throws under CI when it cannot.
 *
 * @example
 * describe.skipIf(requirements({ root: "creates network namespaces", tools: ["ip", "python3"] }))("…", () => {});
 */
export function requirements(needs: Needs): boolean {
  return apply(skipDecision(unmetNeeds(needs, thisMachine()), process.env));
}

/** requirements({ tools }): skip (or fail under CI) unless every program is on PATH. */
export function requireTools(tools: readonly string[]): boolean {
  return requirements({ tools });
}

/** requirements({ root }): skip (or fail under CI) unless running as root. */
export function requireRoot(why: boolean | string = true): boolean {
  return requirements({ root: why });
}

/**
 * Network-namespace suites: root, `ip` and the usual topology tools (iptables, sysctl) plus `tools`, and then
 * `ip netns` must actually work here (it does not in an unprivileged container).
 *
 * @example
 * describe.skipIf(await requireNetns(["arping", "curl"]))("speaker end to end", () => {});
 */
export async function requireNetns(tools: readonly string[] = []): Promise<boolean> {
  const all = [...new Set(["ip", "iptables", "sysctl", ...tools])];
  let unmet = unmetNeeds({ root: "creates network namespaces", tools: all }, thisMachine());
  if (unmet === undefined) {
    const { netnsSupport } = await import("../../tools/netns/topology.ts");
    const support = await netnsSupport();
    if (support !== true) unmet = { reason: `needs working network namespaces: ${support}`, packages: [] };
  }
  return apply(skipDecision(unmet, process.env));
}
