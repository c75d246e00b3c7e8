import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TokenFile } from "./token-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "token-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("TokenFile", () => {
  it("reads the token without surrounding whitespace and keeps it for a minute", async () => {
    const path = join(dir, "token");
    await writeFile(path, "  abc\n");
    const clock = { now: 0 };
    const file = new TokenFile(path, { now: () => clock.now });
    expect(file.token()).toBe("abc");
    await writeFile(path, "def");
    clock.now = 59_999;
    expect(file.token()).toBe("abc");
    clock.now = 60_000;
    expect(file.token()).toBe("def");
  });

  it("reads at once when asked to refresh (after a 401)", async () => {
    const path = join(dir, "token");
    await writeFile(path, "old");
    const file = new TokenFile(path, { now: () => 0 });
    await writeFile(path, "new");
    expect(file.token(true)).toBe("new");
  });

  it("fails at construction, naming the file, when it cannot be read or is empty", async () => {
    expect(() => new TokenFile(join(dir, "missing"), { where: "in-cluster config" })).toThrow(/^in-cluster config: cannot read the bearer token file .*missing: ENOENT/);
    await writeFile(join(dir, "empty"), "\n");
    expect(() => new TokenFile(join(dir, "empty"))).toThrow(/cannot read the bearer token file .*empty: the file is empty/);
  });

  it("uses the fallback when the file never could be read", () => {
    expect(new TokenFile(join(dir, "missing"), { fallback: "inline" }).token()).toBe("inline");
  });
});
