/**
 * Reads the machine's network interfaces (read-only): flags, MAC, index, operstate and master from
 * /sys/class/net/<if>/, addresses from `os.networkInterfaces()`. The pure selection lives in interfaces.ts.
 *
 * `os.networkInterfaces()` (libuv) lists addresses only of interfaces that are up *and running* (have carrier),
 * so an interface without carrier shows no addresses until its link comes back; a VIP whose subnet lives only
 * there falls back to all eligible interfaces meanwhile, which the periodic re-scan corrects.
 */
import { readFile, readdir, readlink } from "node:fs/promises";
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { basename, join } from "node:path";
import type { InterfaceAddress, InterfaceInfo } from "./interfaces.ts";

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;
const IFF_SLAVE = 0x800;

/** Where to read from; the defaults read the real machine. */
export interface ScanSources {
  /** Default "/sys/class/net". */
  sysClassNet?: string;
  /** Default `os.networkInterfaces`. */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * Lists the interfaces, sorted by index. An interface that disappears during the scan is left out; any other
 * read error rejects with the path that failed.
 *
 * @example
 * const { eligible, excluded } = selectInterfaces(await scanInterfaces());
 */
export async function scanInterfaces(sources: ScanSources = {}): Promise<InterfaceInfo[]> {
  const root = sources.sysClassNet ?? "/sys/class/net";
  const addressesByName = (sources.networkInterfaces ?? osNetworkInterfaces)();
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    throw new Error(`cannot list network interfaces in ${root}: ${(e as Error).message}`, { cause: e });
  }
  const scanned = await Promise.all(names.map((name) => readInterface(root, name, addressesByName[name] ?? [])));
  return scanned.filter((i): i is InterfaceInfo => i !== undefined).sort((a, b) => a.index - b.index);
}

async function readInterface(
  root: string,
  name: string,
  osAddresses: NetworkInterfaceInfo[],
): Promise<InterfaceInfo | undefined> {
  const dir = join(root, name);
  try {
    const [flagsText, mac, indexText, operState, master] = await Promise.all([
      readText(join(dir, "flags")),
      readText(join(dir, "address")),
      readText(join(dir, "ifindex")),
      readText(join(dir, "operstate")),
      readMaster(dir),
    ]);
    const flags = parseInt(flagsText, 16);
    const index = Number(indexText);
    if (!Number.isInteger(flags) || !Number.isInteger(index)) {
      throw new Error(`unexpected contents in ${dir}: flags ${JSON.stringify(flagsText)}, ifindex ${JSON.stringify(indexText)}`);
    }
    const info: InterfaceInfo = {
      name,
      index,
      mac: mac.toLowerCase(),
      flags: {
        up: (flags & IFF_UP) !== 0,
        broadcast: (flags & IFF_BROADCAST) !== 0,
        loopback: (flags & IFF_LOOPBACK) !== 0,
        noarp: (flags & IFF_NOARP) !== 0,
        slave: (flags & IFF_SLAVE) !== 0,
      },
      operState,
      addresses: osAddresses.map(toInterfaceAddress).filter((a): a is InterfaceAddress => a !== undefined),
    };
    if (master) info.master = master;
    return info;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined; // the interface went away mid-scan
    throw e;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw e;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The master device and its kind (DEVTYPE from its uevent), or undefined when the interface has none. */
async function readMaster(dir: string): Promise<{ name: string; kind: string } | undefined> {
  let target: string;
  try {
    target = await readlink(join(dir, "master"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${join(dir, "master")}: ${(e as Error).message}`, { cause: e });
  }
  let kind = "";
  try {
    const uevent = await readFile(join(dir, "master", "uevent"), "utf8");
    kind = /^DEVTYPE=(.*)$/m.exec(uevent)?.[1]?.trim() ?? "";
  } catch {
    // The master may vanish or hide its uevent; an unknown kind is still reported (and treated conservatively).
  }
  return { name: basename(target), kind };
}

/**
 * One of Node's addresses as ours: Node's family "IPv4"/"IPv6" becomes 4/6, a zone ("%eth0") is dropped and
 * the netmask becomes a prefix length; undefined when there is no usable prefix length.
 */
function toInterfaceAddress(a: NetworkInterfaceInfo): InterfaceAddress | undefined {
  const address = a.address.split("%")[0];
  let prefixLength: number | undefined;
  if (a.cidr) prefixLength = Number(a.cidr.slice(a.cidr.lastIndexOf("/") + 1));
  else prefixLength = maskLength(a.netmask);
  if (prefixLength === undefined || !Number.isInteger(prefixLength)) return undefined;
  return { family: a.family === "IPv6" ? 6 : 4, address, prefixLength };
}

function maskLength(netmask: string): number | undefined {
  let bits = 0;
  if (netmask.includes(":")) {
    for (const group of netmask.split(":")) if (group) bits += popcount(parseInt(group, 16));
    return bits;
  }
  for (const octet of netmask.split(".")) bits += popcount(Number(octet));
  return Number.isInteger(bits) ? bits : undefined;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v &= v - 1) c++;
  return c;
}
