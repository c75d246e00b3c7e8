import { describe, expect, it } from "vitest";
import { labRootProblem, labUsage, parseLabFlags } from "./lab-flags.ts";

const defaults = { keep: false, json: false, crd: false, image: false, noInstall: false };

describe("parseLabFlags", () => {
  it("defaults to tearing down and human output", () => {
    expect(parseLabFlags([])).toEqual(defaults);
  });

  it("accepts --keep and --json together", () => {
    expect(parseLabFlags(["--keep", "--json"])).toEqual({ ...defaults, keep: true, json: true });
  });

  it("accepts --crd, alone and with the others", () => {
    expect(parseLabFlags(["--crd"])).toEqual({ ...defaults, crd: true });
    expect(parseLabFlags(["--json", "--crd", "--keep"])).toEqual({ ...defaults, keep: true, json: true, crd: true });
  });

  it("accepts --image and --no-install", () => {
    expect(parseLabFlags(["--image"])).toEqual({ ...defaults, image: true });
    expect(parseLabFlags(["--no-install", "--json"])).toEqual({ ...defaults, noInstall: true, json: true });
  });

  it("documents every flag with its default in --help", () => {
    for (const flag of ["--keep", "--json", "--crd", "--image", "--no-install", "--help"]) expect(labUsage).toContain(` ${flag} `);
    expect(labUsage.replace(/\s+/g, " ")).toContain("--image run the controller and speakers as containers of the image built by `npm run image` (default: off)");
  });

  it("rejects an unknown flag, naming it and the valid ones", () => {
    expect(() => parseLabFlags(["--kep"])).toThrow(/lab: Unknown option '--kep'.*Valid flags: --keep, --json, --crd, --image, --no-install, --help/);
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
