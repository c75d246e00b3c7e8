/**
 * How the benchmarks run the controller and the speaker: the way the product image runs them, with Node's on-disk
 * compile cache (`NODE_COMPILE_CACHE`, see the Dockerfile). With every module's type-stripped source and V8 code in
 * the cache, Node loads neither its TypeScript stripper nor compiles at start, which shows in resident memory
 * (61 → 44 MB for a bare .ts file) and start time. Every bench that spawns a binary takes its environment from
 * {@link productEnv} (or runs the lab's workloads with {@link productRunner}) and calls {@link warmCompileCache} first.
 *
 * The cache is warmed as the image build warms it: `node controller/main.ts --help` and `node speaker/main.ts
 * --help`, which link (and so compile) every static import of each binary before printing the usage. Entries are
 * keyed by each file's content, so a file edited since is compiled again; warming right before measuring keeps the
 * cache current. A second `--help` run with Node's compile-cache debug output checks that every TypeScript module
 * it loads comes from the cache. (Should a binary ever import modules only after parsing its flags, `--help` no
 * longer reaches them, in the image as here: change the warm-up here and in the Dockerfile together.)
 *
 * @example
 * await warmCompileCache();
 * spawn(node24, [...manifestNodeFlags("speaker"), "speaker/main.ts", ...flags], { env: productEnv("speaker") });
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { manifestProcessRunner, type WorkloadRunner } from "../lab/lab-cluster.ts";
import { manifestEnv, manifestNodeFlags } from "../lab/manifest-runtime.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const node24 = `${repoRoot}node_modules/.bin/node`;

/** The compile cache every bench shares (Node keeps one subdirectory per Node version and user id in it). */
export const compileCacheDir = join(tmpdir(), "baremetal-lb-compile-cache");

/**
 * `role`'s environment as its manifest and the image give it: `base` (default this process's), the compile cache
 * and the manifest's literal values.
 */
export function productEnv(role: "controller" | "speaker", base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, NODE_COMPILE_CACHE: compileCacheDir, ...manifestEnv(role) };
}

/** The lab's process runner (tools/lab/lab-cluster.ts) with {@link productEnv}: the compile cache as well. */
export const productRunner: WorkloadRunner = manifestProcessRunner((role) => productEnv(role));

function runHelp(role: "controller" | "speaker", env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node24, [...manifestNodeFlags(role), `${role}/main.ts`, "--help"], { cwd: repoRoot, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

let warmed: Promise<void> | undefined;

/**
 * Fills the compile cache for both binaries (once per process) and checks that a start then finds every
 * TypeScript module `--help` loads in it; throws naming the modules it missed.
 */
export function warmCompileCache(): Promise<void> {
  warmed ??= (async () => {
    mkdirSync(compileCacheDir, { recursive: true });
    // Like the image's cache directory: writable by every user (Node keeps each user's entries apart).
    if (statSync(compileCacheDir).uid === process.getuid?.()) chmodSync(compileCacheDir, 0o1777);
    for (const role of ["controller", "speaker"] as const) {
      const main = `${role}/main.ts`;
      const fill = await runHelp(role, productEnv(role));
      if (fill.code !== 0) throw new Error(`node ${main} --help exited ${fill.code} while warming the compile cache: ${fill.stderr.trim()}`);
      const check = await runHelp(role, { ...productEnv(role), NODE_DEBUG_NATIVE: "COMPILE_CACHE" });
      const hits = check.stderr.match(/retrieving transpile cache for StrippedTypeScript \S+\.\.\.success/g)?.length ?? 0;
      const misses = [...check.stderr.matchAll(/no transpile cache for StrippedTypeScript (\S+)/g)].map((m) => m[1]);
      if (hits === 0 || misses.length > 0) {
        throw new Error(
          `the compile cache in ${compileCacheDir} did not serve node ${main} --help (${hits} TypeScript modules from the cache, ` +
            `${misses.length} compiled${misses.length > 0 ? `: ${misses.slice(0, 3).join(", ")}` : ""}): is the directory writable for this user?`,
        );
      }
    }
  })();
  return warmed;
}
