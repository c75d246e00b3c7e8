/**
 * Loads the speaker's native addon (speaker/native/build/Release/packet_socket.node, built by `npm ci` /
 * `npm run install`) once per process, with an error that says how to build it when it is missing. Every
 * typed wrapper of the addon (speaker/l2/packet-socket.ts, speaker/cluster/native-heartbeat.ts) loads it through
 * here.
 *
 * @example
 * const { HeartbeatEngine } = loadNativeAddon<{ HeartbeatEngine: new (opts: object) => unknown }>();
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const addonPath = fileURLToPath(new URL("./build/Release/packet_socket.node", import.meta.url));
let addon: unknown;

/** The addon's exports, typed as the caller declares them (each wrapper declares the part it uses). */
export function loadNativeAddon<T>(): T {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(addonPath);
    } catch (cause) {
      throw new Error(
        `cannot load the speaker's packet-socket addon from ${addonPath} ` +
          `(${(cause as Error).message}): run npm ci or npm run install to build it (Linux, g++, make, python3)`,
        { cause },
      );
    }
  }
  return addon as T;
}
