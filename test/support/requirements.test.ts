import { mkdtemp, rm, symlink, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOnPath } from "../../tools/support/find-on-path.ts";
import { isCi, skipDecision, unmetNeeds, type Machine } from "./requirements.ts";

const machine = (uid: number, tools: string[]): Machine => ({ uid, hasTool: (t) => tools.includes(t) });

describe("unmetNeeds", () => {
  it("is satisfied when root and every tool are there", () => {
    expect(unmetNeeds({ root: true, tools: ["ip", "arping"] }, machine(0, ["ip", "arping"]))).toBeUndefined();
  });

  it("names each missing tool with its Debian package", () => {
    expect(unmetNeeds({ tools: ["ip", "arping", "iptables"] }, machine(0, ["ip"]))).toEqual({
      reason: "needs arping (Debian package arping), iptables (Debian package iptables)",
      packages: ["arping", "iptables"],
    });
    expect(unmetNeeds({ tools: ["ping", "ip6tables"] }, machine(0, []))?.reason).toBe(
      "needs ping (Debian package iputils-ping), ip6tables (Debian package iptables)",
    );
  });

  it("says root is needed, why, and who we are", () => {
    expect(unmetNeeds({ root: "creates network namespaces", tools: ["ip"] }, machine(1000, ["ip"]))).toEqual({
      reason: "needs root (creates network namespaces; running as uid 1000)",
      packages: [],
    });
  });

  it("says where kubectl comes from", () => {
    expect(unmetNeeds({ tools: ["kubectl"] }, machine(0, []))?.reason).toBe(
      "needs kubectl (Debian package kubectl, from the Kubernetes apt repository pkgs.k8s.io, see https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/)",
    );
  });
});

describe("skipDecision", () => {
  const arping = { reason: "needs arping (Debian package arping)", packages: ["arping"] };

  it("runs a suite whose needs are met, in CI or not", () => {
    expect(skipDecision(undefined, {})).toEqual({ action: "run" });
    expect(skipDecision(undefined, { CI: "true" })).toEqual({ action: "run" });
  });

  it("skips with the reason outside CI", () => {
    expect(skipDecision(arping, {})).toEqual({ action: "skip", message: "skipped: needs arping (Debian package arping)" });
    expect(skipDecision(arping, { CI: "false" })).toEqual({ action: "skip", message: "skipped: needs arping (Debian package arping)" });
  });

  it("fails under CI=true, saying what to install", () => {
    expect(skipDecision(arping, { CI: "true" })).toEqual({
      action: "fail",
      message:
        "not skipped because CI=true: this suite needs arping (Debian package arping), and under CI a skipped test is a failure " +
        "(coverage must not disappear silently); install with: apt-get install -y --no-install-recommends arping",
    });
  });
});

describe("isCi", () => {
  it("reads CI=true and CI=1 only", () => {
    expect([isCi({ CI: "true" }), isCi({ CI: "1" }), isCi({ CI: "TRUE" }), isCi({}), isCi({ CI: "" }), isCi({ CI: "false" })]).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe("findOnPath", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "find-on-path-"));
    await writeFile(join(dir, "tool"), "#!/bin/sh\n");
    await chmod(join(dir, "tool"), 0o755);
    await writeFile(join(dir, "plain"), "not executable\n");
    await symlink(join(dir, "tool"), join(dir, "linked"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("finds executables (and symlinks to them) in the search path, in order", () => {
    expect(findOnPath("tool", `/nonexistent:${dir}`)).toBe(join(dir, "tool"));
    expect(findOnPath("linked", dir)).toBe(join(dir, "linked"));
  });

  it("finds nothing that is absent or not executable", () => {
    expect(findOnPath("absent", dir)).toBeUndefined();
    expect(findOnPath("plain", dir)).toBeUndefined();
    expect(findOnPath("tool", "")).toBeUndefined();
  });
});
