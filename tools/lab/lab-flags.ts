import { defineCommand, parseFlags } from "../../shared/cli/parse-flags.ts";
import { formatUsage } from "../../shared/cli/usage.ts";

/** The lab's command line. */
export interface LabFlags {
  /** Leave everything up after the steps and print how to explore it; tear down on Ctrl-C. */
  keep: boolean;
  /** Print a machine-readable summary object as the last line. */
  json: boolean;
  /** Configure the pool with an IPAddressPool and an L2Advertisement (MetalLB >= 0.13) instead of the ConfigMap. */
  crd: boolean;
  /** Run the controller and the speakers as containers of the image built by `npm run image`. */
  image: boolean;
  /** Never install missing tools; print the command that would instead. */
  noInstall: boolean;
}

/** The lab's command line: every flag, what it does and its default (the parser and `--help` read this). */
export const labCommand = defineCommand({
  program: "lab",
  synopsis: "sudo npm run lab -- [--keep] [--json] [--crd] [--image] [--no-install]",
  summary:
    "The whole user story on one machine, in network namespaces it creates and removes: a LAN with a client and " +
    "three nodes, the API simulator, kubectl apply -f manifests/, a LoadBalancer Service answered by one node, a " +
    "failover measured while curling the VIP, and the strictARP check. Needs root; as root on Debian/Ubuntu it " +
    "installs the missing tools (iproute2, iptables, arping, curl, ...) with apt-get first. " +
    "Exits 0 only when every step passed; 2 for a usage error, without root, or with tools missing.",
  flags: {
    keep: { type: "boolean", default: false, help: "leave the lab running after the steps and print commands to explore it; Ctrl-C tears it down" },
    json: { type: "boolean", default: false, help: "print a machine-readable summary (vip, answering node, failover ms, every step) as the last line" },
    crd: {
      type: "boolean",
      default: false,
      help: "configure with an IPAddressPool and an L2Advertisement instead of the ConfigMap, and move the announcer with the L2Advertisement's nodeSelectors",
    },
    image: { type: "boolean", default: false, help: "run the controller and speakers as containers of the image built by `npm run image`" },
    "no-install": { type: "boolean", default: false, help: "do not install missing tools with apt-get; print the command to run instead and exit 2" },
  },
});

/** The lab's usage text (`--help`), generated from labCommand. */
export const labUsage = formatUsage(labCommand).trimEnd();

/**
 * Parses `npm run lab -- [flags]`; an unknown flag or a stray argument throws an error naming it and the valid flags.
 *
 * @example
 * parseLabFlags(["--json", "--crd"]); // { keep: false, json: true, crd: true, image: false, noInstall: false }
 */
export function parseLabFlags(argv: string[]): LabFlags {
  const v = parseFlags(argv, labCommand);
  return { keep: v.keep, json: v.json, crd: v.crd, image: v.image, noInstall: v["no-install"] };
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
