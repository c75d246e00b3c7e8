import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArpSysctls } from "./sysctl-read.ts";

describe("readArpSysctls", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "blb-sysctl-"));
    for (const [dev, ignore, announce] of [["all", "1", "2"], ["eth0", "0", "0"], ["eth1", "2", "1"]]) {
      await mkdir(join(root, dev));
      await writeFile(join(root, dev, "arp_ignore"), `${ignore}\n`);
      await writeFile(join(root, dev, "arp_announce"), `${announce}\n`);
    }
    await mkdir(join(root, "bad0"));
    await writeFile(join(root, "bad0", "arp_ignore"), "x\n");
    await writeFile(join(root, "bad0", "arp_announce"), "0\n");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reads all and each interface", async () => {
    expect(await readArpSysctls(["eth0", "eth1"], root)).toEqual({
      all: { arpIgnore: 1, arpAnnounce: 2 },
      interfaces: { eth0: { arpIgnore: 0, arpAnnounce: 0 }, eth1: { arpIgnore: 2, arpAnnounce: 1 } },
    });
  });

  it("names the missing file and suggests why", async () => {
    await expect(readArpSysctls(["eth9"], root)).rejects.toThrow(`cannot read ${join(root, "eth9", "arp_ignore")}`);
    await expect(readArpSysctls(["eth9"], root)).rejects.toThrow("is the interface gone");
  });

  it("names the file that does not hold a number", async () => {
    await expect(readArpSysctls(["bad0"], root)).rejects.toThrow(`${join(root, "bad0", "arp_ignore")} holds "x", not an integer`);
  });

  it("reads this machine's /proc/sys for lo", async () => {
    const real = await readArpSysctls(["lo"]);
    expect(real.all.arpIgnore).toBe(Number((await readFile("/proc/sys/net/ipv4/conf/all/arp_ignore", "utf8")).trim()));
    expect(real.interfaces.lo.arpAnnounce).toBe(Number((await readFile("/proc/sys/net/ipv4/conf/lo/arp_announce", "utf8")).trim()));
  });
});
