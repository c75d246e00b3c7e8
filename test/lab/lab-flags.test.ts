import { describe, expect, it } from "vitest";
import { labRootProblem, parseLabFlags } from "./lab-flags.ts";

describe("parseLabFlags", () => {
  it("defaults to tearing down and human output", () => {
    expect(parseLabFlags([])).toEqual({ keep: false, json: false, crd: false, help: false });
  });

  it("accepts --keep and --json together", () => {
    expect(parseLabFlags(["--keep", "--json"])).toEqual({ keep: true, json: true, crd: false, help: false });
  });

  it("accepts --crd, alone and with the others", () => {
    expect(parseLabFlags(["--crd"])).toEqual({ keep: false, json: false, crd: true, help: false });
    expect(parseLabFlags(["--json", "--crd", "--keep"])).toEqual({ keep: true, json: true, crd: true, help: false });
  });

  it("rejects an unknown flag, naming it and the valid ones", () => {
    expect(() => parseLabFlags(["--kep"])).toThrow(/lab: Unknown option '--kep'.*Valid flags: --keep, --json, --crd, --help/);
  });

  it("rejects a stray argument", () => {
    expect(() => parseLabFlags(["now"])).toThrow(/lab: .*now/);
  });
});

describe("labRootProblem", () => {
  it("lets root run the lab", () => {
    expect(labRootProblem(0)).toBeUndefined();
  });

  it("tells anyone else that the lab needs root, why, and how to run it", () => {
    const message = labRootProblem(1000);
    expect(message).toContain("the lab needs root (running as uid 1000)");
    expect(message).toContain("network namespaces");
    expect(message).toContain("iptables");
    expect(message).toContain("raw packet sockets");
    expect(message).toContain("sudo npm run lab");
  });
});
