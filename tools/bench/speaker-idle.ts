/**
 * Idle footprint of the speaker (not a test): speaker-rss.ts with a single Service, so its VIP is the one the node
 * owns. Reports the same figures (rssMb and hwmMb at the end of 10 s idle after the gratuitous burst,
 * announceAllSeconds, idleCpuPercent) with issue 11's goal rssMb ≤ 80. Needs root; its own namespaces (blbidle-*),
 * so it may run beside speaker-rss. Prints one JSON line on stdout:
 *
 *   ./node_modules/.bin/node tools/bench/speaker-idle.ts
 */
import type { Goals } from "./goals.ts";
import { runNamespaceBench } from "./namespace-bench-main.ts";
import { benchSpeakerRss } from "./speaker-rss.ts";

const goals = { rssMb: { max: 80 } } satisfies Goals;

if (import.meta.main) {
  await runNamespaceBench("speaker-idle", (onStop) => benchSpeakerRss({ vips: 1, goals, lab: { prefix: "blbidle", index: 73 }, onStop }));
}
