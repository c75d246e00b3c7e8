import { describe, expect, it } from "vitest";
import { hardNofile, hasSysResource, podmanQuirks } from "./podman-quirks.ts";

describe("podmanQuirks", () => {
  it("adds nothing on a cgroup v2 machine with a high open-files limit", () => {
    expect(podmanQuirks({ cgroup2: true, nofileHard: 1_048_576, canRaiseLimits: false })).toEqual({ globalArgs: [], containersConf: undefined, notes: [] });
  });

  it("uses runc on cgroups v1 or hybrid", () => {
    expect(podmanQuirks({ cgroup2: false, nofileHard: Infinity, canRaiseLimits: true }).globalArgs).toEqual(["--runtime", "runc"]);
  });

  it("writes default_ulimits = [] when the hard open-files limit is low and cannot be raised (this lab VM)", () => {
    const q = podmanQuirks({ cgroup2: false, nofileHard: 20_000, canRaiseLimits: false });
    expect(q.globalArgs).toEqual(["--runtime", "runc"]);
    expect(q.containersConf).toMatch(/^\[containers\]\n(#.*\n)?default_ulimits = \[\]\n$/);
    expect(q.notes).toEqual([
      "cgroups v1/hybrid: running podman with --runtime runc (crun refuses them)",
      "the hard open-files limit is 20000 < 1048576 and cannot be raised: CONTAINERS_CONF with default_ulimits = []",
    ]);
  });

  it("needs no containers.conf when CAP_SYS_RESOURCE can raise the limit", () => {
    expect(podmanQuirks({ cgroup2: true, nofileHard: 20_000, canRaiseLimits: true }).containersConf).toBeUndefined();
  });

  it("leaves a CONTAINERS_CONF the user set alone, and says what it needs", () => {
    const q = podmanQuirks({ cgroup2: true, nofileHard: 1024, canRaiseLimits: false, containersConf: "/etc/mine.conf" });
    expect(q.containersConf).toBeUndefined();
    expect(q.notes).toEqual(["the hard open-files limit is 1024; keeping your CONTAINERS_CONF=/etc/mine.conf (it needs default_ulimits = [])"]);
  });
});

describe("the facts from /proc", () => {
  it("reads the hard open-files limit", () => {
    const limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 20000                files     \n";
    expect(hardNofile(limits)).toBe(20000);
    expect(hardNofile(limits.replace("20000", "unlimited"))).toBe(Infinity);
  });

  it("finds CAP_SYS_RESOURCE (bit 24) in CapEff", () => {
    expect(hasSysResource("CapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n")).toBe(false);
    expect(hasSysResource("CapEff:\t000001ffffffffff\n")).toBe(true);
  });
});
