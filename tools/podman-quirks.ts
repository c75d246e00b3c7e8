/**
 * What podman needs on this machine beyond its defaults, decided from facts about the machine. Two quirks are
 * known (see issue 10):
 * - cgroups v1 or hybrid (/sys/fs/cgroup is not a cgroup2 file system): podman's default runtime crun refuses them,
 *   so every podman command gets `--runtime runc`;
 * - a hard open-files limit below the 1048576 podman gives rootful containers, without CAP_SYS_RESOURCE to raise
 *   it: runc fails with "error setting rlimit type 7", so a containers.conf with `default_ulimits = []` (containers
 *   inherit podman's own limits) is passed in CONTAINERS_CONF.
 * Pure: podman.ts gathers the facts.
 *
 * @example
 * podmanQuirks({ cgroup2: false, nofileHard: 20000, canRaiseLimits: false }).globalArgs; // ["--runtime", "runc"]
 */

/** The facts the decision needs. */
export interface MachineFacts {
  /** /sys/fs/cgroup is a cgroup2 file system (the unified hierarchy). */
  cgroup2: boolean;
  /** The hard RLIMIT_NOFILE of this process. */
  nofileHard: number;
  /** This process has CAP_SYS_RESOURCE, so it may raise a hard limit. */
  canRaiseLimits: boolean;
  /** CONTAINERS_CONF as already set by the user, which is then left alone. */
  containersConf?: string;
}

/** What to add to podman's command lines and environment. */
export interface PodmanQuirks {
  /** Global flags before the podman subcommand. */
  globalArgs: string[];
  /** The containers.conf to write and point CONTAINERS_CONF at, when one is needed. */
  containersConf?: string;
  /** One line per quirk applied (or left to the user), for the tool to print. */
  notes: string[];
}

/** The open-files limit rootful podman sets in containers by default. */
export const podmanDefaultNofile = 1_048_576;

/** Decides the quirks; see the module comment. */
export function podmanQuirks(facts: MachineFacts): PodmanQuirks {
  const globalArgs: string[] = [];
  const notes: string[] = [];
  let containersConf: string | undefined;
  if (!facts.cgroup2) {
    globalArgs.push("--runtime", "runc");
    notes.push("cgroups v1/hybrid: running podman with --runtime runc (crun refuses them)");
  }
  if (facts.nofileHard < podmanDefaultNofile && !facts.canRaiseLimits) {
    if (facts.containersConf) {
      notes.push(`the hard open-files limit is ${facts.nofileHard}; keeping your CONTAINERS_CONF=${facts.containersConf} (it needs default_ulimits = [])`);
    } else {
      containersConf = "[containers]\n# Containers inherit podman's own limits: the default nofile=1048576 exceeds this machine's hard limit.\ndefault_ulimits = []\n";
      notes.push(`the hard open-files limit is ${facts.nofileHard} < ${podmanDefaultNofile} and cannot be raised: CONTAINERS_CONF with default_ulimits = []`);
    }
  }
  return { globalArgs, containersConf, notes };
}

/** The hard "Max open files" from /proc/self/limits text; Infinity for "unlimited" or when absent. */
export function hardNofile(limitsText: string): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limitsText);
  if (!m || m[1] === "unlimited") return Infinity;
  return Number(m[1]);
}

/** Whether CapEff in /proc/self/status text includes CAP_SYS_RESOURCE (bit 24). */
export function hasSysResource(statusText: string): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/m.exec(statusText);
  return m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false;
}
