/**
 * Reads the node's ARP sysctls (read-only): /proc/sys/net/ipv4/conf/{all,<if>}/arp_ignore and arp_announce.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ArpSysctls, NodeArpSysctls } from "./strict-arp.ts";

/**
 * Reads `all` and each named interface. Rejects with the path and a hint if a file is missing or not a number
 * (an interface that vanished, or /proc/sys not mounted from the host's network namespace).
 *
 * @example strictArpVerdict({ proxyModeEndpoint, sysctls: await readArpSysctls(["eth0"]) })
 */
export async function readArpSysctls(
  interfaces: readonly string[],
  confRoot = "/proc/sys/net/ipv4/conf",
): Promise<NodeArpSysctls> {
  const settled = await Promise.allSettled([readPair(confRoot, "all"), ...interfaces.map((name) => readPair(confRoot, name))]);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const [all, ...each] = settled.map((r) => (r as PromiseFulfilledResult<ArpSysctls>).value);
  return { all, interfaces: Object.fromEntries(interfaces.map((name, i) => [name, each[i]])) };
}

async function readPair(root: string, name: string): Promise<ArpSysctls> {
  // Both reads run at once, but a failure is reported in a fixed order (arp_ignore first), not by
  // whichever read happened to fail first.
  const [ignore, announce] = await Promise.allSettled([
    readNumber(join(root, name, "arp_ignore")),
    readNumber(join(root, name, "arp_announce")),
  ]);
  if (ignore.status === "rejected") throw ignore.reason;
  if (announce.status === "rejected") throw announce.reason;
  return { arpIgnore: ignore.value, arpAnnounce: announce.value };
}

async function readNumber(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(
      `cannot read ${path}: ${(e as Error).message} (is the interface gone, or /proc/sys not from the host network namespace?)`,
      { cause: e },
    );
  }
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw new Error(`${path} holds ${JSON.stringify(text.trim())}, not an integer`);
  return value;
}
