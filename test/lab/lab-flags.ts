import { parseFlags } from "../../shared/cli/parse-flags.ts";

/** The lab's command line. */
export interface LabFlags {
  /** Leave everything up after the steps and print how to explore it; tear down on Ctrl-C. */
  keep: boolean;
  /** Print a machine-readable summary object as the last line. */
  json: boolean;
  help: boolean;
}

/** The lab's usage text. */
export const labUsage = `usage: sudo npm run lab -- [--keep] [--json]
  --keep   leave the lab running after the steps and print commands to explore it; Ctrl-C tears it down
  --json   print a machine-readable summary (vip, answering node, failover ms, every step) as the last line`;

/**
 * Parses `npm run lab -- [flags]`; an unknown flag or a stray argument throws an error naming it and the valid flags.
 *
 * @example
 * parseLabFlags(["--json"]); // { keep: false, json: true, help: false }
 */
export function parseLabFlags(argv: string[]): LabFlags {
  const v = parseFlags(argv, { keep: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, "lab");
  return { keep: v.keep ?? false, json: v.json ?? false, help: v.help ?? false };
}

/**
 * Why this process cannot run the lab, or undefined when it can: the lab creates network namespaces, veth pairs
 * and a bridge, installs iptables DNAT rules, and the speakers open raw packet sockets; all of that needs root.
 *
 * @example
 * labRootProblem(1000); // "the lab needs root: ..."
 */
export function labRootProblem(uid: number | undefined): string | undefined {
  if (uid === 0) return undefined;
  return [
    `the lab needs root (running as uid ${uid ?? "unknown"}): it creates network namespaces, veth pairs and a bridge,`,
    "installs iptables DNAT rules as kube-proxy would, and the speakers answer ARP on raw packet sockets.",
    "Run it as: sudo npm run lab",
  ].join("\n");
}
