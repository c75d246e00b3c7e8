import type { ChildProcess } from "node:child_process";
import { mustRun, mustRunIn, run, runIn } from "./run.ts";

/** One simulated node: a namespace on the LAN with one interface, `eth0`. */
export interface TopologyNode {
  name: string;
  ns: string;
  ipv4: string;
  ipv6: string;
  mac: string;
}

/** The namespaces and addresses of one test LAN. */
export interface Topology {
  /** The LAN: a bridge `br0` in its own namespace. */
  lanNs: string;
  client: TopologyNode;
  /** Where the API simulator and the controller run; also reachable from the host. */
  infra: TopologyNode;
  nodes: TopologyNode[];
  /** Address of the infra namespace as seen from the host (test process) over a private link. */
  infraHostAddress: string;
  /**
   * The host's (test process's) own address on that link. Nodes reach it through the infra
   * namespace, which routes and masquerades for them, so a server the test runs in-process on
   * this address (the API simulator) is reachable from every node.
   */
  hostAddress: string;
  lanPrefixV4: string;
  lanPrefixV6: string;
  /** Takes a node's LAN link down (as a dead node's would be). */
  linkDown(node: TopologyNode): Promise<void>;
  linkUp(node: TopologyNode): Promise<void>;
  /** Kills every process left in the namespaces and deletes them. Safe to call twice. */
  destroy(): Promise<void>;
  /** Processes started in the namespaces, killed by destroy(). */
  track(child: ChildProcess): ChildProcess;
}

export interface TopologyOptions {
  /** Short unique prefix for the namespace names, e.g. "blbe2e". */
  prefix: string;
  nodeNames: string[];
  /** 1–250: picks the host link subnet 169.254.<index>.0/30, distinct per concurrent topology. */
  index: number;
}

const lanV4 = "192.168.126";
const lanV6 = "fd00:126::";

/** Whether this process may build namespaces (root, and the `ip` tool). */
export async function netnsSupport(): Promise<true | string> {
  if (process.getuid?.() !== 0) return "needs root to create network namespaces (run the tests as root)";
  const r = await run(["ip", "netns", "list"]);
  if (r.code !== 0) return `the ip tool cannot list network namespaces: ${r.stderr.trim()}`;
  return true;
}

/**
 * Builds a LAN of network namespaces: a bridge, a client, an infra host and the given nodes,
 * each with IPv4 192.168.126.0/24 and IPv6 fd00:126::/64 addresses. The host (the test process)
 * reaches the infra namespace over a private /30 link. All traffic stays inside these namespaces.
 *
 * @example
 * const topo = await buildTopology({ prefix: "blbarp", nodeNames: ["node-1", "node-2"], index: 11 });
 * try { ... } finally { await topo.destroy(); }
 */
export async function buildTopology(opts: TopologyOptions): Promise<Topology> {
  const children: ChildProcess[] = [];
  const namespaces: string[] = [];
  const hostIf = `${opts.prefix.slice(0, 9)}h${opts.index}`.slice(0, 15);
  await removeStale(opts.prefix, hostIf);
  const lanNs = `${opts.prefix}-lan`;
  const destroy = async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const ns of namespaces.splice(0).reverse()) await deleteNamespace(ns);
    await run(["ip", "link", "del", hostIf]);
  };
  try {
    await addNamespace(lanNs, namespaces);
    await mustRunIn(lanNs, ["ip", "link", "add", "br0", "type", "bridge"]);
    // No STP and no forwarding delay: ports forward as soon as they are up.
    await mustRunIn(lanNs, ["ip", "link", "set", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    await mustRunIn(lanNs, ["ip", "link", "set", "br0", "up"]);
    let port = 0;
    const attach = async (name: string, host: number): Promise<TopologyNode> => {
      const ns = `${opts.prefix}-${name}`.slice(0, 40);
      await addNamespace(ns, namespaces);
      const lanSide = `p${port++}`;
      await mustRunIn(lanNs, ["ip", "link", "add", lanSide, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await mustRunIn(lanNs, ["ip", "link", "set", lanSide, "master", "br0", "up"]);
      const ipv4 = `${lanV4}.${host}`;
      const ipv6 = `${lanV6}${host.toString(16)}`;
      // Like a server's static config, keep IPv6 addresses across a link flap (Linux flushes them by default).
      await mustRunIn(ns, ["sysctl", "-qw", "net.ipv6.conf.eth0.keep_addr_on_down=1"]);
      await mustRunIn(ns, ["ip", "addr", "add", `${ipv4}/24`, "dev", "eth0"]);
      await mustRunIn(ns, ["ip", "-6", "addr", "add", `${ipv6}/64`, "dev", "eth0", "nodad"]);
      await mustRunIn(ns, ["ip", "link", "set", "eth0", "up"]);
      await mustRunIn(ns, ["ip", "link", "set", "lo", "up"]);
      const mac = (await mustRunIn(ns, ["cat", "/sys/class/net/eth0/address"])).trim();
      return { name, ns, ipv4, ipv6, mac };
    };
    const client = await attach("client", 100);
    const infra = await attach("infra", 2);
    const nodes: TopologyNode[] = [];
    for (const [i, name] of opts.nodeNames.entries()) nodes.push(await attach(name, 11 + i));

    const hostAddress = `169.254.${opts.index}.1`;
    const infraHostAddress = `169.254.${opts.index}.2`;
    await mustRun(["ip", "link", "add", hostIf, "type", "veth", "peer", "name", "host0", "netns", infra.ns]);
    await mustRun(["ip", "addr", "add", `${hostAddress}/30`, "dev", hostIf]);
    await mustRun(["ip", "link", "set", hostIf, "up"]);
    await mustRunIn(infra.ns, ["ip", "addr", "add", `${infraHostAddress}/30`, "dev", "host0"]);
    await mustRunIn(infra.ns, ["ip", "link", "set", "host0", "up"]);
    await mustRunIn(infra.ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    await mustRunIn(infra.ns, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "host0", "-j", "MASQUERADE"]);
    for (const node of [...nodes, client]) {
      await mustRunIn(node.ns, ["ip", "route", "add", `169.254.${opts.index}.0/30`, "via", infra.ipv4]);
    }

    return {
      lanNs,
      client,
      infra,
      nodes,
      infraHostAddress,
      hostAddress,
      lanPrefixV4: `${lanV4}.0/24`,
      lanPrefixV6: `${lanV6}/64`,
      linkDown: async (node) => void (await mustRunIn(node.ns, ["ip", "link", "set", "eth0", "down"])),
      linkUp: async (node) => {
        await mustRunIn(node.ns, ["ip", "link", "set", "eth0", "up"]);
        // A link going down takes its routes with it; restore the one to the host.
        await runIn(node.ns, ["ip", "route", "replace", `169.254.${opts.index}.0/30`, "via", infra.ipv4]);
      },
      destroy,
      track: (child) => {
        children.push(child);
        return child;
      },
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

async function addNamespace(ns: string, created: string[]): Promise<void> {
  await mustRun(["ip", "netns", "add", ns]);
  created.push(ns);
}

async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run(["ip", "netns", "pids", ns]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  await run(["ip", "netns", "del", ns]);
}

/** Removes namespaces and the host link left behind by an earlier run that was killed. */
async function removeStale(prefix: string, hostIf: string): Promise<void> {
  const list = await run(["ip", "netns", "list"]);
  for (const line of list.stdout.split("\n")) {
    const ns = line.split(" ")[0];
    if (ns && ns.startsWith(`${prefix}-`)) await deleteNamespace(ns);
  }
  await run(["ip", "link", "del", hostIf]);
}

export { runIn };
