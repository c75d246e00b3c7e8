import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim } from "./index.ts";
import { kubectl } from "./kubectl-runner.ts";
import { requireTools } from "../../test/support/requirements.ts";
import { strategicMergeCases } from "./strategic-merge-cases.ts";
import { strategicMergePatch } from "./strategic-merge.ts";

const skip = requireTools(["kubectl"]);

// kubectl's own strategic merge (`kubectl patch --local`) is the reference implementation: for every case the
// simulator must produce what kubectl produces. The simulator only answers /version (so the dispatcher picks 1.32).
describe.skipIf(skip)("strategicMergePatch agrees with kubectl patch --local", () => {
  let sim: KubeSim;
  let dir: string;

  beforeAll(async () => {
    sim = await startKubeSim();
    dir = await mkdtemp(join(tmpdir(), "kubectl-oracle-"));
  });

  afterAll(async () => {
    await sim?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  strategicMergeCases.forEach((c, i) => {
    it(c.name, async () => {
      const file = join(dir, `case-${i}.json`);
      await writeFile(file, JSON.stringify(c.original));
      const r = await kubectl(sim.kubeconfigPath, ["patch", "--local", "-f", file, "-p", JSON.stringify(c.patch), "-o", "json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(strategicMergePatch(c.original, c.patch, c.original.kind!)).toEqual(JSON.parse(r.stdout));
    });
  });
});
