import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirements } from "../../test/support/requirements.ts";
import { scanInterfaces } from "./interface-scan.ts";
import { selectInterfaces } from "./interfaces.ts";

describe("scanInterfaces on a fake /sys/class/net", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "blb-sysfs-"));
    const dev = async (name: string, flags: string, mac: string, index: number, devtype?: string) => {
      await mkdir(join(root, name));
      await writeFile(join(root, name, "flags"), `${flags}\n`);
      await writeFile(join(root, name, "address"), `${mac}\n`);
      await writeFile(join(root, name, "ifindex"), `${index}\n`);
      await writeFile(join(root, name, "operstate"), "up\n");
      await writeFile(join(root, name, "uevent"), `${devtype ? `DEVTYPE=${devtype}\n` : ""}INTERFACE=${name}\nIFINDEX=${index}\n`);
    };
    await dev("lo", "0x9", "00:00:00:00:00:00", 1);
    await dev("eth0", "0x1003", "02:AA:00:00:00:01", 2);
    await dev("bond0", "0x1403", "02:aa:00:00:00:02", 5, "bond");
    await dev("eth1", "0x1803", "02:aa:00:00:00:02", 3); // IFF_SLAVE
    await symlink("../bond0", join(root, "eth1", "master"));
    await dev("br0", "0x1003", "02:aa:00:00:00:04", 6, "bridge");
    await dev("eth2", "0x1303", "02:aa:00:00:00:04", 4);
    await symlink("../br0", join(root, "eth2", "master"));
    await dev("ifb0", "0x82", "02:aa:00:00:00:07", 7);
    await mkdir(join(root, "gone0")); // listed, then vanished before its files could be read
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const fakeAddresses = () => ({
    eth0: [
      { address: "192.0.2.5", netmask: "255.255.255.0", family: "IPv4" as const, mac: "02:aa:00:00:00:01", internal: false, cidr: "192.0.2.5/24" },
      { address: "fe80::aa:1", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6" as const, mac: "02:aa:00:00:00:01", internal: false, cidr: null, scopeid: 2 },
    ],
  });

  it("reads flags, MAC, index, master and its kind, sorted by index, skipping vanished interfaces", async () => {
    const all = await scanInterfaces({ sysClassNet: root, networkInterfaces: fakeAddresses });
    expect(all.map((i) => [i.index, i.name])).toEqual([[1, "lo"], [2, "eth0"], [3, "eth1"], [4, "eth2"], [5, "bond0"], [6, "br0"], [7, "ifb0"]]);
    const eth0 = all.find((i) => i.name === "eth0")!;
    expect(eth0).toEqual({
      name: "eth0",
      index: 2,
      mac: "02:aa:00:00:00:01",
      flags: { up: true, broadcast: true, loopback: false, noarp: false, slave: false },
      operState: "up",
      addresses: [
        { family: 4, address: "192.0.2.5", prefixLength: 24 },
        { family: 6, address: "fe80::aa:1", prefixLength: 64 }, // from the netmask when cidr is missing
      ],
    });
    expect(all.find((i) => i.name === "eth1")).toMatchObject({ flags: { slave: true }, master: { name: "bond0", kind: "bond" } });
    expect(all.find((i) => i.name === "eth2")).toMatchObject({ master: { name: "br0", kind: "bridge" } });
    expect(all.find((i) => i.name === "ifb0")).toMatchObject({ flags: { up: false, noarp: true } });
  });

  it("feeds selectInterfaces: eth0, bond0 and br0 are eligible", async () => {
    const { eligible, excluded } = selectInterfaces(await scanInterfaces({ sysClassNet: root, networkInterfaces: fakeAddresses }));
    expect(eligible.map((i) => i.name)).toEqual(["eth0", "bond0", "br0"]);
    expect(excluded).toEqual([
      { name: "lo", reason: "name matches exclude pattern /^lo$/" },
      { name: "eth1", reason: "bond slave of bond0" },
      { name: "eth2", reason: "port of bridge br0" },
      { name: "ifb0", reason: "down (IFF_UP not set)" },
    ]);
  });

  it("says which directory it could not list", async () => {
    await expect(scanInterfaces({ sysClassNet: join(root, "missing") })).rejects.toThrow(`cannot list network interfaces in ${join(root, "missing")}`);
  });
});

describe("scanInterfaces on this machine", () => {
  it("finds lo, flags it loopback, and selection excludes it", async () => {
    const all = await scanInterfaces();
    const lo = all.find((i) => i.name === "lo");
    expect(lo?.flags.loopback).toBe(true);
    expect(selectInterfaces(all).excluded.map((e) => e.name)).toContain("lo");
    expect(selectInterfaces(all).eligible.map((e) => e.name)).not.toContain("lo");
  });

  it("agrees with os.networkInterfaces() on MACs and addresses", async () => {
    const os = networkInterfaces();
    for (const i of await scanInterfaces()) {
      const entries = os[i.name];
      if (!entries) continue;
      expect(i.mac).toBe(entries[0].mac);
      expect(i.addresses.map((a) => a.address).sort()).toEqual(entries.map((e) => e.address.split("%")[0]).sort());
    }
  });
});

const skip = requirements({ root: "creates a network namespace", tools: ["ip"] });

describe.skipIf(skip)("scanInterfaces in a network namespace (needs root and iproute2)", () => {
  const ns = "blb-scan-test";
  beforeAll(() => {
    spawnSync("ip", ["netns", "del", ns]);
    execFileSync("ip", ["netns", "add", ns]);
    const inNs = (...args: string[]) => execFileSync("ip", ["-n", ns, ...args]);
    inNs("link", "add", "br0", "type", "bridge");
    inNs("link", "add", "p1", "type", "veth", "peer", "name", "lan0");
    inNs("link", "set", "p1", "master", "br0");
    inNs("link", "set", "br0", "up");
    inNs("link", "set", "lan0", "up");
    inNs("link", "set", "p1", "up"); // carrier on br0: os.networkInterfaces() lists only running interfaces
    inNs("addr", "add", "192.0.2.1/24", "dev", "br0");
  });
  afterAll(() => {
    spawnSync("ip", ["netns", "del", ns]);
  });

  it("sees the bridge port's master kind from the kernel and excludes it", () => {
    const script = `
      import { scanInterfaces } from ${JSON.stringify(new URL("./interface-scan.ts", import.meta.url).pathname)};
      import { selectInterfaces } from ${JSON.stringify(new URL("./interfaces.ts", import.meta.url).pathname)};
      const all = await scanInterfaces();
      console.log(JSON.stringify({ all, ...selectInterfaces(all) }));`;
    const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, "--input-type=module", "-e", script], { encoding: "utf8" });
    const { all, eligible, excluded } = JSON.parse(out) as {
      all: Array<{ name: string; master?: unknown }>;
      eligible: Array<{ name: string; addresses: unknown[] }>;
      excluded: Array<{ name: string; reason: string }>;
    };
    expect(all.find((i) => i.name === "p1")?.master).toEqual({ name: "br0", kind: "bridge" });
    expect(eligible.map((i) => i.name).sort()).toEqual(["br0", "lan0"]);
    expect(eligible.find((i) => i.name === "br0")?.addresses).toContainEqual({ family: 4, address: "192.0.2.1", prefixLength: 24 });
    expect(excluded).toContainEqual({ name: "p1", reason: "port of bridge br0" });
    expect(excluded).toContainEqual({ name: "lo", reason: "name matches exclude pattern /^lo$/" });
  });
});
