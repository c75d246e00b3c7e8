import { describe, expect, it } from "vitest";
import { aptCommandLine, planLabTools } from "./lab-tools.ts";

const rootWithApt = { root: true, aptGet: true, noInstall: false };

describe("planLabTools", () => {
  it("does nothing when every tool is there", () => {
    expect(planLabTools([], rootWithApt)).toEqual({ action: "ready" });
  });

  it("as root with apt-get, installs the missing tools' Debian packages and says which", () => {
    expect(planLabTools(["iptables", "arping"], rootWithApt)).toEqual({
      action: "install",
      packages: ["iptables", "arping"],
      commands: [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "iptables", "arping"],
      ],
      announce:
        "the lab needs these tools on PATH: iptables (Debian package iptables), arping (Debian package arping); " +
        "installing their packages with apt-get (--no-install to refuse): iptables arping",
    });
  });

  it("names each package once, and the package rather than the tool", () => {
    const plan = planLabTools(["ip", "sysctl", "curl"], rootWithApt);
    expect(plan).toMatchObject({ action: "install", packages: ["iproute2", "procps", "curl"] });
  });

  it("with --no-install, prints the exact command instead", () => {
    expect(planLabTools(["arping"], { ...rootWithApt, noInstall: true })).toEqual({
      action: "stop",
      message:
        "the lab needs these tools on PATH: arping (Debian package arping) (--no-install: not installing them myself); install them with:\n" +
        "  apt-get update && apt-get install -y --no-install-recommends arping\nthen run the lab again",
    });
  });

  it("without root, prints the command with sudo", () => {
    const plan = planLabTools(["iptables"], { ...rootWithApt, root: false });
    expect(plan.action).toBe("stop");
    expect(plan.action === "stop" && plan.message).toContain("  sudo apt-get update && sudo apt-get install -y --no-install-recommends iptables\n");
  });

  it("without apt-get, names the Debian packages to look for", () => {
    const plan = planLabTools(["arping", "ping"], { ...rootWithApt, aptGet: false });
    expect(plan).toEqual({
      action: "stop",
      message:
        "the lab needs these tools on PATH: arping (Debian package arping), ping (Debian package iputils-ping); this machine has no apt-get, " +
        "so install the packages that provide them with its package manager (their Debian names: arping, iputils-ping) and run the lab again",
    });
  });

  it("says where kubectl comes from, since Debian's archive lacks it", () => {
    const plan = planLabTools(["kubectl"], { ...rootWithApt, noInstall: true });
    expect(plan.action === "stop" && plan.message).toContain("(kubectl is not in Debian's own archive: get it from the Kubernetes apt repository pkgs.k8s.io");
  });
});

describe("aptCommandLine", () => {
  it("is one line a person can paste", () => {
    expect(aptCommandLine(["iptables", "arping"], false)).toBe("apt-get update && apt-get install -y --no-install-recommends iptables arping");
    expect(aptCommandLine(["curl"], true)).toBe("sudo apt-get update && sudo apt-get install -y --no-install-recommends curl");
  });
});
