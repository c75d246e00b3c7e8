import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The executable `tool` on the search path (default $PATH), or undefined when there is none: what a shell's
 * `command -v` finds, without running anything.
 *
 * @example
 * findOnPath("arping"); // "/usr/sbin/arping"
 * findOnPath("arping", "/tmp/empty"); // undefined
 */
export function findOnPath(tool: string, path: string = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
