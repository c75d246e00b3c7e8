import { describe, expect, it } from "vitest";
import { baseImage, chooseBase, imageBuildArgs, lockedNodeVersion, standInContainerfile, standInLabel } from "./base-image.ts";

const want = standInLabel("24.21.0");
const noHost = "dial tcp: lookup registry-1.docker.io: no such host";

describe("chooseBase", () => {
  it.each([
    ["pulled: the real base, npm online", { pulled: true, local: {} }, { kind: "real", offlineNpm: false, why: `pulled ${baseImage}` }],
    [
      "not pulled, a real one stored: that one",
      { pulled: false, pullError: noHost, local: {} },
      { kind: "local", offlineNpm: false, why: `cannot pull ${baseImage} (${noHost}); using the real one stored here` },
    ],
    [
      "not pulled, nothing stored: build the stand-in, npm offline",
      { pulled: false, pullError: noHost, local: undefined },
      { kind: "stand-in", rebuild: true, offlineNpm: true, why: `cannot pull ${baseImage} (${noHost}); building a stand-in (${want})` },
    ],
    [
      "not pulled, the same stand-in stored: reuse it",
      { pulled: false, local: { standIn: want } },
      { kind: "stand-in", rebuild: false, offlineNpm: true, why: `cannot pull ${baseImage}; reusing the stand-in built earlier (${want})` },
    ],
    [
      "not pulled, an older stand-in stored: rebuild it",
      { pulled: false, local: { standIn: standInLabel("24.1.0") } },
      { kind: "stand-in", rebuild: true, offlineNpm: true, why: `cannot pull ${baseImage}; the stored stand-in is outdated (${standInLabel("24.1.0")}); building a stand-in (${want})` },
    ],
  ])("%s", (_name, input, expected) => {
    expect(chooseBase({ ...input, standInLabel: want })).toEqual(expected);
  });

  it("prefers a pulled base over a stored stand-in", () => {
    expect(chooseBase({ pulled: true, local: { standIn: want }, standInLabel: want }).kind).toBe("real");
  });
});

describe("imageBuildArgs", () => {
  const ref = "ghcr.io/baremetal-lb/baremetal-lb:0.1.0";
  it("builds the Dockerfile as it is on the plain path", () => {
    expect(imageBuildArgs({ ref, context: "/repo", choice: chooseBase({ pulled: true, local: undefined, standInLabel: want }) })).toEqual(["build", "--tag", ref, "/repo"]);
  });

  it("never pulls, and mounts the npm cache and an offline .npmrc, on the stand-in", () => {
    const choice = chooseBase({ pulled: false, local: undefined, standInLabel: want });
    expect(imageBuildArgs({ ref, context: "/repo", choice, npmCache: "/root/.npm", npmrc: "/tmp/x/.npmrc" })).toEqual([
      "build",
      "--tag",
      ref,
      "--pull=never",
      "--volume",
      "/root/.npm:/root/.npm",
      "--volume",
      "/tmp/x/.npmrc:/root/.npmrc:ro",
      "/repo",
    ]);
  });
});

describe("the stand-in", () => {
  it("takes Node's version from the node devDependency in package-lock.json", () => {
    expect(lockedNodeVersion(JSON.stringify({ packages: { "node_modules/node": { version: "24.21.0" } } }))).toBe("24.21.0");
    expect(() => lockedNodeVersion(JSON.stringify({ packages: {} }))).toThrow("package-lock.json has no node_modules/node");
    expect(() => lockedNodeVersion(JSON.stringify({ packages: { "node_modules/node": { version: "22.1.0" } } }))).toThrow("the Dockerfile's base is Node 24");
  });

  it("lays Node and npm out under /usr/local as the official image does, and carries its label", () => {
    const text = standInContainerfile("24.21.0");
    expect(text).toContain("COPY node/bin/node /usr/local/bin/node\n");
    expect(text).toContain("COPY node/include/ /usr/local/include/\n");
    expect(text).toContain("COPY npm/ /usr/local/lib/node_modules/npm/\n");
    expect(text).toContain("ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm");
    expect(text).toContain(`LABEL org.baremetal-lb.stand-in="${want}"\n`);
  });
});
