import { netnsSupport } from "../netns/topology.ts";

/**
 * The command-line ending shared by benchmarks that build network namespaces: checks root,
 * runs the benchmark, prints its result as one JSON line on stdout, and on SIGINT waits for the
 * lab to exist, tears it down and exits 130 (a run interrupted while building leaves nothing).
 *
 * @example
 * await runNamespaceBench("failover", (onStop) => benchFailover({ trials, onStop }));
 */
export async function runNamespaceBench<R>(
  name: string,
  run: (onStop: (stop: () => Promise<void>) => void) => Promise<R>,
): Promise<void> {
  const support = await netnsSupport();
  if (support !== true) {
    console.error(`${name}: ${support}`);
    process.exit(1);
  }
  let stop: (() => Promise<void>) | undefined;
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    process.stderr.write(`${name}: interrupted: cleaning up the namespaces\n`);
    void (async () => {
      // The lab may still be building; its cleanup exists once it is up.
      for (let i = 0; i < 1200 && !stop; i++) await new Promise((r) => setTimeout(r, 50));
      await stop?.().catch(() => undefined);
      process.exit(130);
    })();
  });
  try {
    const result = await run((s) => (stop = s));
    if (interrupted) return;
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (err) {
    if (interrupted) return; // the SIGINT handler exits once the namespaces are gone
    console.error(`${name}: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  }
}
