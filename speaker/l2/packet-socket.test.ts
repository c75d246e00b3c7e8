// Packet sockets against real kernels: two network namespaces joined by a veth pair, the speaker's end
// (spk0, node namespace) and a client end (cli0, client namespace). A packet socket belongs to the namespace of
// the process that opens it, so the sockets live in child processes (test/support/netns-child.ts) started
// with `ip netns exec`; the client side uses the kernel's own ARP/NDP and a packet socket to send crafted frames.
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirements, requireTools } from "../../test/support/requirements.ts";
import { eventually } from "../../tools/support/eventually.ts";
import {
  BROADCAST,
  ZERO_MAC,
  arpFrame,
  ethernet,
  hex,
  icmpv6Checksum,
  icmpv6Frame,
  ipv4,
  ipv6,
  linkLayerOption,
  mac,
  multicastMac,
  solicitedNode,
  type ArpFields,
  type Icmpv6Fields,
} from "../../test/support/test-frames.ts";

const skip = requirements({ root: "creates network namespaces and opens packet sockets", tools: ["ip", "sysctl", "ping"] });
const skipArping = skip || requireTools(["arping"]);

const NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const CHILD = fileURLToPath(new URL("../../test/support/netns-child.ts", import.meta.url));
const WRAPPER = fileURLToPath(new URL("./packet-socket.ts", import.meta.url));
const ADDON = fileURLToPath(new URL("../native/build/Release/packet_socket.node", import.meta.url));
const NODE_NS = `blb-ps-${process.pid}-n`;
const CLIENT_NS = `blb-ps-${process.pid}-c`;
const SPEAKER_MAC = mac("02:b1:b0:00:00:02");
const CLIENT_MAC = mac("02:b1:b0:00:00:01");
const VIP4 = "10.77.0.100";
const VIP6 = "fd77::100";
const CLIENT4 = ipv4("10.77.0.1");
const CLIENT6 = ipv6("fd77::1");
const run = promisify(execFile);

interface FrameEvent {
  event: "frame";
  socket: string;
  hex: string;
  packetType: string;
  answered: boolean;
  ifindex: number;
}

interface Reply {
  id: number;
  ok?: true;
  error?: { code?: string; syscall?: string; message: string; name: string };
  [field: string]: unknown;
}

/** One netns-child process: requests with bounded waits, and every frame event it reported. */
class NetnsChild {
  readonly frames: FrameEvent[] = [];
  readonly errors: object[] = [];
  readonly exited: Promise<number | null>;
  private readonly process: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private readonly frameWaiters = new Set<() => void>();
  private nextId = 1;

  constructor(namespace: string, wrapper: string[] = []) {
    this.process = spawn("ip", ["netns", "exec", namespace, ...wrapper, NODE, CHILD], { stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.process.on("exit", (code) => resolve(code)));
    let stderr = "";
    this.process.stderr.on("data", (chunk) => (stderr += String(chunk)));
    this.process.on("exit", (code) => {
      if (code !== 0 && stderr) console.warn(`netns-child in ${namespace} exited ${code}: ${stderr}`);
    });
    createInterface({ input: this.process.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as Reply & { event?: string };
      if (message.event === "frame") {
        this.frames.push(message as unknown as FrameEvent);
        for (const wake of this.frameWaiters) wake();
      } else if (message.event === "error") {
        this.errors.push(message);
      } else {
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
      }
    });
  }

  /** Sends a request; resolves with the reply (which may carry `error`), rejects after 5 s. */
  request(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`netns-child: no answer to ${op} within 5 s`)), 5_000);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.process.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** Like request, but throws the child's error. */
  async do(op: string, fields: Record<string, unknown> = {}): Promise<Reply> {
    const reply = await this.request(op, fields);
    if (reply.error) throw new Error(`${op} failed in netns-child: ${reply.error.message}`);
    return reply;
  }

  /** Waits (at most `ms`) for a frame on `socket` matching `match`, counting frames already received. */
  waitForFrame(socket: string, match: (frame: Buffer) => boolean, ms = 3_000): Promise<FrameEvent> {
    const find = () => this.frames.find((f) => f.socket === socket && match(Buffer.from(f.hex, "hex")));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        this.frameWaiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.frameWaiters.delete(check);
        reject(new Error(`no matching frame on socket ${socket} within ${ms} ms`));
      }, ms);
      this.frameWaiters.add(check);
      check();
    });
  }

  framesOn(socket: string): Buffer[] {
    return this.frames.filter((f) => f.socket === socket).map((f) => Buffer.from(f.hex, "hex"));
  }

  /** Ends stdin and waits for the exit code; kills the child if it has not exited after `ms`. */
  async stop(ms = 3_000): Promise<number | null | "hung"> {
    this.process.stdin.end();
    const timeout = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms));
    const result = await Promise.race([this.exited, timeout]);
    if (result === "hung") this.process.kill("SIGKILL");
    return result;
  }
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function inClient(...command: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run("ip", ["netns", "exec", CLIENT_NS, ...command], { timeout: 5_000 });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "" };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A frame as the classifier the kernel filter implements would see it. */
function kind(frame: Buffer): string {
  const etherType = frame.readUInt16BE(12);
  if (etherType === 0x0806) return `arp-op${frame.readUInt16BE(20)}`;
  if (etherType === 0x86dd) return frame[20] === 58 ? `icmpv6-${frame[54]}` : `ipv6-nh${frame[20]}`;
  return `ethertype-${etherType.toString(16)}`;
}

const clientArp = (over: Partial<ArpFields>) =>
  arpFrame({ ethDst: BROADCAST, ethSrc: CLIENT_MAC, op: 1, senderMac: CLIENT_MAC, senderIp: CLIENT4, targetMac: ZERO_MAC, targetIp: ipv4(VIP4), ...over });

const clientIcmpv6 = (over: Partial<Icmpv6Fields>) =>
  icmpv6Frame({
    ethDst: multicastMac(solicitedNode(ipv6(VIP6))),
    ethSrc: CLIENT_MAC,
    src: CLIENT6,
    dst: solicitedNode(ipv6(VIP6)),
    type: 135,
    body: ipv6(VIP6),
    options: linkLayerOption(1, CLIENT_MAC),
    ...over,
  });

describe.skipIf(skip)("packet socket on a veth pair between two network namespaces", () => {
  let speaker: NetnsChild;
  let client: NetnsChild;

  beforeAll(async () => {
    ip("netns", "add", NODE_NS);
    ip("netns", "add", CLIENT_NS);
    for (const ns of [NODE_NS, CLIENT_NS]) {
      execFileSync("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"]);
    }
    ip("-n", NODE_NS, "link", "add", "name", "spk0", "address", "02:b1:b0:00:00:02", "type", "veth", "peer", "name", "cli0", "address", "02:b1:b0:00:00:01", "netns", CLIENT_NS);
    ip("-n", NODE_NS, "addr", "add", "10.77.0.2/24", "dev", "spk0");
    ip("-n", NODE_NS, "addr", "add", "fd77::2/64", "dev", "spk0", "nodad");
    ip("-n", CLIENT_NS, "addr", "add", "10.77.0.1/24", "dev", "cli0");
    ip("-n", CLIENT_NS, "addr", "add", "fd77::1/64", "dev", "cli0", "nodad");
    for (const [ns, dev] of [[NODE_NS, "spk0"], [CLIENT_NS, "cli0"], [NODE_NS, "lo"], [CLIENT_NS, "lo"]]) ip("-n", ns, "link", "set", dev, "up");
    speaker = new NetnsChild(NODE_NS);
    client = new NetnsChild(CLIENT_NS);
    await client.do("open", { socket: "tap", ifname: "cli0", protocols: "both" });
  });

  afterAll(async () => {
    await Promise.all([speaker?.stop(), client?.stop()]);
    for (const ns of [NODE_NS, CLIENT_NS]) {
      try {
        ip("netns", "del", ns);
      } catch (error) {
        console.warn(`could not delete network namespace ${ns}: ${(error as Error).message}`);
      }
    }
  });

  it("reports a missing interface as ENODEV, naming it", async () => {
    const reply = await speaker.request("open", { socket: "missing", ifname: "blb-missing0", protocols: "both" });
    expect(reply.error).toMatchObject({ code: "ENODEV", syscall: "if_nametoindex" });
    expect(reply.error?.message).toContain("blb-missing0");
  });

  it("reports a missing CAP_NET_RAW as EPERM and says the speaker needs it", async () => {
    const unprivileged = new NetnsChild(NODE_NS, ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", "--"]);
    try {
      const reply = await unprivileged.request("open", { socket: "x", ifname: "spk0", protocols: "both" });
      expect(reply.error).toMatchObject({ code: "EPERM", syscall: "socket" });
      expect(reply.error?.message).toBe("socket on spk0: Operation not permitted (EPERM) — the speaker needs CAP_NET_RAW");
    } finally {
      await unprivileged.stop();
    }
  });

  it("opens on the interface with its ifindex and MAC", async () => {
    const reply = await speaker.do("open", { socket: "info", ifname: "spk0", protocols: "arp" });
    expect(reply.mac).toBe("02b1b0000002");
    expect(reply.ifindex).toBe(Number(/^(\d+):/.exec(ip("-n", NODE_NS, "-o", "link", "show", "spk0"))?.[1]));
    // Read for every frame by the responder: one Buffer per socket, not a new one per read.
    expect(await speaker.do("mac", { socket: "info" })).toMatchObject({ hex: "02b1b0000002", same: true });
    await speaker.do("close", { socket: "info" });
  });

  it("wakes only for ARP requests and replies and NS/NA, per the chosen protocols", async () => {
    await speaker.do("open", { socket: "both", ifname: "spk0", protocols: "both" });
    await speaker.do("open", { socket: "arp", ifname: "spk0", protocols: "arp" });
    await speaker.do("open", { socket: "ndp", ifname: "spk0", protocols: "ndp" });
    const marker = (n: number) => ipv4(`10.77.1.${n}`);
    const accepted = {
      arpRequest: clientArp({ senderIp: marker(1) }),
      arpReply: clientArp({ op: 2, senderIp: marker(2), ethDst: SPEAKER_MAC, targetMac: SPEAKER_MAC }),
      ns: clientIcmpv6({ body: ipv6("fd77::1:1"), dst: solicitedNode(ipv6("fd77::1:1")), ethDst: multicastMac(solicitedNode(ipv6("fd77::1:1"))) }),
      na: clientIcmpv6({ type: 136, flags: 0x20000000, body: ipv6("fd77::1:2"), dst: ipv6("ff02::1"), ethDst: multicastMac(ipv6("ff02::1")), options: linkLayerOption(2, CLIENT_MAC) }),
    };
    const rejected = {
      rarp: clientArp({ op: 3, senderIp: marker(3) }),
      vlanTaggedArp: Buffer.concat([BROADCAST, CLIENT_MAC, hex("81 00 00 64"), clientArp({ senderIp: marker(4) }).subarray(12)]),
      ipv4Udp: ethernet(SPEAKER_MAC, CLIENT_MAC, 0x0800, hex("45 00 00 1c 00 00 00 00 40 11 00 00 0a 4d 00 01 0a 4d 00 02 00 09 00 09 00 08 00 00")),
      routerSolicitation: clientIcmpv6({ type: 133, body: Buffer.alloc(0), dst: ipv6("ff02::2"), ethDst: multicastMac(ipv6("ff02::2")) }),
      echoRequest: clientIcmpv6({ type: 128, body: Buffer.alloc(0), options: Buffer.alloc(0), dst: ipv6("fd77::2"), ethDst: SPEAKER_MAC }),
      nsBehindHopByHop: clientIcmpv6({ nextHeader: 0, body: ipv6("fd77::1:3") }),
      runtEthernet: Buffer.concat([SPEAKER_MAC, CLIENT_MAC, hex("08 06 00 01")]),
    };
    for (const frame of [...Object.values(rejected), ...Object.values(accepted)]) await client.do("send", { socket: "tap", hex: frame.toString("hex") });
    // Real kernel traffic as well: pings (and the ARP/NDP they need) in both families.
    expect((await inClient("ping", "-c1", "-W2", "10.77.0.2")).code).toBe(0);
    expect((await inClient("ping", "-6", "-c1", "-W2", "fd77::2")).code).toBe(0);
    // The kernel's ARP request to the client, answered by the client's kernel with an ARP reply.
    ip("-n", NODE_NS, "neigh", "flush", "dev", "spk0");
    execFileSync("ip", ["netns", "exec", NODE_NS, "ping", "-c1", "-W2", "10.77.0.1"]);

    const sentinel = clientArp({ senderIp: marker(99) });
    await client.do("send", { socket: "tap", hex: sentinel.toString("hex") });
    for (const socket of ["both", "arp"]) await speaker.waitForFrame(socket, (f) => f.equals(sentinel));
    const received = (socket: string) => speaker.framesOn(socket);
    const has = (socket: string, frame: Buffer) => received(socket).some((f) => f.equals(frame));

    expect(Object.values(accepted).map((f) => has("both", f))).toEqual([true, true, true, true]);
    expect([has("arp", accepted.arpRequest), has("arp", accepted.arpReply), has("arp", accepted.ns), has("arp", accepted.na)]).toEqual([true, true, false, false]);
    expect([has("ndp", accepted.arpRequest), has("ndp", accepted.arpReply), has("ndp", accepted.ns), has("ndp", accepted.na)]).toEqual([false, false, true, true]);
    for (const frame of Object.values(rejected)) for (const socket of ["both", "arp", "ndp"]) expect(has(socket, frame)).toBe(false);
    // The kernel's own ARP exchange arrived; its pings did not; and nothing outside the four kinds ever did.
    expect(received("arp").some((f) => kind(f) === "arp-op2" && f.subarray(28, 32).equals(CLIENT4))).toBe(true);
    expect(received("both").some((f) => kind(f) === "arp-op1" && f.subarray(38, 42).equals(ipv4("10.77.0.2")))).toBe(true);
    expect(new Set(received("both").map(kind))).toEqual(new Set(["arp-op1", "arp-op2", "icmpv6-135", "icmpv6-136"]));
    expect(new Set(received("arp").map(kind))).toEqual(new Set(["arp-op1", "arp-op2"]));
    expect(new Set(received("ndp").map(kind))).toEqual(new Set(["icmpv6-135", "icmpv6-136"]));
    expect(speaker.frames.find((f) => f.socket === "both" && f.hex === sentinel.toString("hex"))?.packetType).toBe("broadcast");
    for (const socket of ["both", "arp", "ndp"]) await speaker.do("close", { socket });
  });

  it("sends a handcrafted ARP reply that the client's kernel puts in its neighbour table", async () => {
    await speaker.do("open", { socket: "js", ifname: "spk0", protocols: "arp" });
    const isRequestForVip = (f: Buffer) => kind(f) === "arp-op1" && f.subarray(38, 42).equals(ipv4(VIP4));
    const waiting = speaker.waitForFrame("js", isRequestForVip);
    await inClient("bash", "-c", `echo x > /dev/udp/${VIP4}/9`); // the client's kernel asks who has the VIP
    const request = Buffer.from((await waiting).hex, "hex");
    const reply = arpFrame({
      ethDst: request.subarray(6, 12),
      ethSrc: SPEAKER_MAC,
      op: 2,
      senderMac: SPEAKER_MAC,
      senderIp: ipv4(VIP4),
      targetMac: request.subarray(22, 28),
      targetIp: request.subarray(28, 32),
    });
    await speaker.do("send", { socket: "js", hex: reply.toString("hex") });
    const entry = () => ip("-n", CLIENT_NS, "neigh", "show", VIP4, "dev", "cli0");
    await eventually(() => /lladdr 02:b1:b0:00:00:02 (REACHABLE|STALE|DELAY)/.test(entry()), { ms: 3_000, what: "the client's neighbour entry for the answered IP", detail: entry });
    await speaker.do("close", { socket: "js" });
  });

  it("rejects a send() the kernel cannot take, with the errno name", async () => {
    await speaker.do("open", { socket: "big", ifname: "spk0", protocols: "arp" });
    const jumbo = ethernet(BROADCAST, SPEAKER_MAC, 0x0806, Buffer.alloc(9000));
    const reply = await speaker.request("send", { socket: "big", hex: jumbo.toString("hex") });
    expect(reply.error).toMatchObject({ code: "EMSGSIZE", syscall: "sendto" });
    expect(reply.error?.message).toBe("sendto on spk0: Message too long (EMSGSIZE)");
    await speaker.do("close", { socket: "big" });
  });

  it("joins and leaves a link-layer multicast group (the VIP's solicited-node MAC)", async () => {
    await speaker.do("open", { socket: "mc", ifname: "spk0", protocols: "ndp" });
    const groups = () => ip("-n", NODE_NS, "maddr", "show", "dev", "spk0");
    expect(groups()).not.toContain("33:33:ff:00:01:00");
    await speaker.do("addMembership", { socket: "mc", hex: "3333ff000100" });
    expect(groups()).toContain("link  33:33:ff:00:01:00");
    await speaker.do("dropMembership", { socket: "mc", hex: "3333ff000100" });
    expect(groups()).not.toContain("33:33:ff:00:01:00");
    const unicast = await speaker.request("addMembership", { socket: "mc", hex: "02b1b0000099" });
    expect(unicast.error?.message).toContain("expected a 6-byte multicast MAC address");
    // Closing the socket leaves the group too.
    await speaker.do("addMembership", { socket: "mc", hex: "3333ff000100" });
    await speaker.do("close", { socket: "mc" });
    expect(groups()).not.toContain("33:33:ff:00:01:00");
  });

  it("closes its descriptor at once, is idempotent, and refuses to send afterwards", async () => {
    await speaker.do("open", { socket: "warm", ifname: "spk0", protocols: "arp" });
    await speaker.do("close", { socket: "warm" });
    const before = (await speaker.do("fds")).count;
    await speaker.do("open", { socket: "fd", ifname: "spk0", protocols: "both" });
    expect((await speaker.do("fds")).count).toBe(Number(before) + 1);
    expect((await speaker.do("close", { socket: "fd" })).closed).toBe(true);
    expect((await speaker.do("fds")).count).toBe(before);
    expect((await speaker.do("close", { socket: "fd" })).closed).toBe(true);
    const send = await speaker.request("send", { socket: "fd", hex: clientArp({}).toString("hex") });
    expect(send.error).toMatchObject({ code: "EBADF", syscall: "sendto" });
    const table = await speaker.request("setReplyTable", { socket: "fd", ipv4: [VIP4], ipv6: [] });
    expect(table.error).toMatchObject({ code: "EBADF", syscall: "setReplyTable" });
    expect(table.error?.message).toBe("setReplyTable on spk0: Bad file descriptor (EBADF) — the packet socket is closed");
    // A bad table on a closed socket is still reported as the bad table.
    const bad = await speaker.request("setReplyTable", { socket: "fd", ipv4: ["10.77.0.256"], ipv6: [] });
    expect(bad.error).toMatchObject({ name: "TypeError" });
  });

  it("counts the frames its receive queue dropped while the event loop was busy, and resets the counts on each read", async () => {
    await speaker.do("open", { socket: "st", ifname: "spk0", protocols: "arp" });
    await speaker.do("stats", { socket: "st" });
    const flood = clientArp({ senderIp: ipv4("10.77.2.1") });
    // The speaker's event loop is busy for 1.5 s while 5,000 ARP frames arrive: far more than its queue holds.
    const stalled = speaker.request("stall", { ms: 1500 });
    await client.do("flood", { socket: "tap", hex: flood.toString("hex"), count: 5000 });
    await stalled;
    const stats = await speaker.do("stats", { socket: "st" });
    expect(Number(stats.packets)).toBeGreaterThanOrEqual(5000);
    expect(Number(stats.drops)).toBeGreaterThan(0);
    expect(Number(stats.drops)).toBeLessThan(Number(stats.packets));
    // Read again: counted afresh, and a quiet socket drops nothing.
    const sentinel = clientArp({ senderIp: ipv4("10.77.2.2") });
    await client.do("send", { socket: "tap", hex: sentinel.toString("hex") });
    await speaker.waitForFrame("st", (f) => f.equals(sentinel));
    expect(await speaker.do("stats", { socket: "st" })).toMatchObject({ packets: 1, drops: 0 });
    await speaker.do("close", { socket: "st" });
    expect((await speaker.request("stats", { socket: "st" })).error).toMatchObject({ code: "EBADF", syscall: "getsockopt(PACKET_STATISTICS)" });
  });

  it("keeps an open socket's object alive, even unref()ed, lets it go once closed, and caches its mac", async () => {
    const source = `import { createRequire } from "node:module";
      const addon = createRequire(import.meta.url)(${JSON.stringify(ADDON)});
      const collected = [];
      let macSame;
      const registry = new FinalizationRegistry((name) => collected.push(name));
      (() => {
        const open = new addon.PacketSocket("spk0", "arp", () => {}, () => {});
        const closed = new addon.PacketSocket("spk0", "arp", () => {}, () => {});
        registry.register(open, "open");
        registry.register(closed, "closed");
        open.unref();
        closed.close();
        macSame = open.mac === open.mac && closed.mac === closed.mac && open.mac.toString("hex") === "02b1b0000002";
      })();
      for (let i = 0; i < 50 && !collected.includes("closed"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        globalThis.gc();
      }
      console.log(JSON.stringify({ collected, macSame }));`;
    const { stdout, stderr } = await run("ip", ["netns", "exec", NODE_NS, NODE, "--expose-gc", "--input-type=module", "-e", source], { timeout: 5_000 });
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ collected: ["closed"], macSame: true }); // and `mac` is one Buffer per socket
  });

  it("closes its sockets when a worker thread that opened them ends or is terminated", async () => {
    const workerSource = (closes: boolean) =>
      `const addon = process.getBuiltinModule("node:module").createRequire(${JSON.stringify(ADDON)})(${JSON.stringify(ADDON)});
       const socket = new addon.PacketSocket("spk0", "both", () => {}, () => {});
       ${closes ? "socket.close();" : ""}
       process.getBuiltinModule("node:worker_threads").parentPort.postMessage("opened");`;
    const source = `import { Worker } from "node:worker_threads";
      const ends = new Worker(${JSON.stringify(workerSource(true))}, { eval: true });
      console.log("ended " + await new Promise((resolve) => ends.on("exit", resolve)));
      const stays = new Worker(${JSON.stringify(workerSource(false))}, { eval: true });
      stays.on("message", async () => console.log("terminated " + await stays.terminate()));
      stays.on("error", (error) => console.log("error " + error.message));`;
    const { stdout, stderr } = await run("ip", ["netns", "exec", NODE_NS, NODE, "--input-type=module", "-e", source], { timeout: 5_000 });
    expect(stderr).toBe("");
    expect(stdout.trim().split("\n")).toEqual(["ended 0", "terminated 1"]);
  });

  it("does not keep the process alive once closed, nor while unref()ed", async () => {
    const child = new NetnsChild(NODE_NS);
    await child.do("open", { socket: "a", ifname: "spk0", protocols: "both" });
    expect(await child.stop()).toBe(0); // stdin ends → the child closes its socket and must exit by itself

    const script = (unref: boolean) =>
      `import { openPacketSocket } from ${JSON.stringify(WRAPPER)};
       const socket = openPacketSocket("spk0", { protocols: "both", onFrame: () => {} });
       ${unref ? "socket.unref();" : ""}`;
    const exitsWithin = async (source: string, ms: number) => {
      const proc = spawn("ip", ["netns", "exec", NODE_NS, NODE, "--input-type=module", "-e", source], { stdio: "ignore" });
      const exited = new Promise<boolean>((resolve) => proc.on("exit", () => resolve(true)));
      const result = await Promise.race([exited, sleep(ms).then(() => false)]);
      if (!result) proc.kill("SIGKILL");
      return result;
    };
    const [unrefExits, refExits] = await Promise.all([exitsWithin(script(true), 3_000), exitsWithin(script(false), 1_000)]);
    expect(unrefExits).toBe(true);
    expect(refExits).toBe(false);
  });

  describe("native fast path", () => {
    beforeAll(async () => {
      await speaker.do("open", { socket: "fast", ifname: "spk0", protocols: "both" });
      await speaker.do("setReplyTable", { socket: "fast", ipv4: [VIP4], ipv6: [VIP6] });
      await speaker.do("addMembership", { socket: "fast", hex: multicastMac(solicitedNode(ipv6(VIP6))).toString("hex") });
      await speaker.do("setFastPath", { socket: "fast", enabled: true });
    });

    afterAll(() => speaker.do("close", { socket: "fast" }));


    it.skipIf(skipArping)("answers arping from the client's kernel side with our MAC, and tells JS it did", async () => {
      const arping = await inClient("arping", "-c1", "-C1", "-w2", "-i", "cli0", VIP4);
      expect(arping.code).toBe(0);
      expect(arping.stdout.toLowerCase()).toContain("02:b1:b0:00:00:02");
      const delivered = await speaker.waitForFrame("fast", (f) => kind(f) === "arp-op1" && f.subarray(38, 42).equals(ipv4(VIP4)));
      expect(delivered.answered).toBe(true);
    });

    it("answers the client kernel's Neighbour Solicitation, so its neighbour table learns our MAC", async () => {
      await inClient("bash", "-c", `echo x > /dev/udp/${VIP6}/9`);
      const entry = () => ip("-n", CLIENT_NS, "-6", "neigh", "show", VIP6, "dev", "cli0");
      await eventually(() => /lladdr 02:b1:b0:00:00:02 (REACHABLE|STALE|DELAY)/.test(entry()), { ms: 3_000, what: "the client's neighbour entry for the answered IP", detail: entry });
      const delivered = await speaker.waitForFrame("fast", (f) => kind(f) === "icmpv6-135" && f.subarray(62, 78).equals(ipv6(VIP6)));
      expect(delivered.answered).toBe(true);
    });

    it("sends byte-exact replies to crafted ARP and NS and ignores malformed ones", async () => {
      const requester = mac("02:00:00:00:77:01"); // made up: only our replies go to it
      const repliesToRequester = () => client.framesOn("tap").filter((f) => f.subarray(0, 6).equals(requester));
      const arpRequest = clientArp({ ethSrc: requester, senderMac: requester, senderIp: ipv4("10.77.0.77") });
      const ns = clientIcmpv6({ ethSrc: requester, src: ipv6("fd77::77"), options: linkLayerOption(1, requester) });
      const malformed = [
        clientArp({ ethSrc: requester, senderMac: requester, senderIp: ipv4("10.77.0.78"), hardwareLength: 8 }),
        clientArp({ ethSrc: requester, senderMac: requester, senderIp: ipv4("10.77.0.79"), ethDst: mac("02:00:00:00:00:99") }),
        clientIcmpv6({ ethSrc: requester, src: ipv6("fd77::78"), options: linkLayerOption(1, requester), hopLimit: 64 }),
        clientIcmpv6({ ethSrc: requester, src: ipv6("fd77::79"), options: linkLayerOption(1, requester), checksumError: 1 }),
        clientIcmpv6({ ethSrc: requester, src: ipv6("fd77::7a"), options: hex("01 00 00 00 00 00 00 00") }),
        Buffer.concat([BROADCAST, requester, hex("81 00 00 64"), clientArp({ ethSrc: requester, senderMac: requester, senderIp: ipv4("10.77.0.80") }).subarray(12)]),
      ];
      for (const frame of [...malformed, arpRequest, ns]) await client.do("send", { socket: "tap", hex: frame.toString("hex") });

      const expectedArp = hex(`
        02 00 00 00 77 01  02 b1 b0 00 00 02  08 06   # to the requester, from us, ARP
        00 01 08 00 06 04 00 02                      # reply
        02 b1 b0 00 00 02  0a 4d 00 64               # sender: our MAC, the VIP
        02 00 00 00 77 01  0a 4d 00 4d               # target: the requester, 10.77.0.77
      `);
      const expectedNa = hex(`
        02 00 00 00 77 01  02 b1 b0 00 00 02  86 dd   # to the requester's link-layer address, from us, IPv6
        60 00 00 00  00 20 3a ff                     # payload 32, ICMPv6, hop limit 255
        fd 77 00 00 00 00 00 00 00 00 00 00 00 00 01 00  # from the VIP
        fd 77 00 00 00 00 00 00 00 00 00 00 00 00 00 77  # to the soliciter
        88 00 00 00  60 00 00 00                     # NA, checksum below, Solicited + Override
        fd 77 00 00 00 00 00 00 00 00 00 00 00 00 01 00  # target: the VIP
        02 01 02 b1 b0 00 00 02                      # target link-layer address: our MAC
      `);
      expectedNa.writeUInt16BE(icmpv6Checksum(expectedNa.subarray(22, 38), expectedNa.subarray(38, 54), expectedNa.subarray(54)), 56);
      await client.waitForFrame("tap", (f) => f.equals(expectedArp));
      await client.waitForFrame("tap", (f) => f.equals(expectedNa));
      await speaker.waitForFrame("fast", (f) => f.equals(ns));
      expect(repliesToRequester()).toEqual([expectedArp, expectedNa]);
      for (const frame of malformed.slice(0, 5)) {
        expect(speaker.frames.find((f) => f.socket === "fast" && f.hex === frame.toString("hex"))).toMatchObject({ answered: false });
      }
      expect(speaker.framesOn("fast").some((f) => f.equals(malformed[5]))).toBe(false); // tagged: filtered out
    });

    it("leaves frames read past the answer deadline to JavaScript, and answers again once given a later one", async () => {
      const request = (n: number) => clientArp({ senderIp: ipv4(`10.77.3.${n}`), targetIp: ipv4(VIP4) });
      const answeredFor = async (frame: Buffer) => (await speaker.waitForFrame("fast", (f) => f.equals(frame))).answered;
      await speaker.do("setAnswerUntil", { socket: "fast", inMs: -1 });
      await client.do("send", { socket: "tap", hex: request(1).toString("hex") });
      expect(await answeredFor(request(1))).toBe(false);
      await speaker.do("setAnswerUntil", { socket: "fast", inMs: 60_000 });
      await client.do("send", { socket: "tap", hex: request(2).toString("hex") });
      expect(await answeredFor(request(2))).toBe(true);
      await speaker.do("setAnswerUntil", { socket: "fast" });
      expect(speaker.errors).toEqual([]);
    });

    it("stops answering when disabled, and answers only the VIPs of the latest table", async () => {
      const request = (n: number, vip = VIP4) => clientArp({ senderIp: ipv4(`10.77.2.${n}`), targetIp: ipv4(vip) });
      const answeredFor = async (frame: Buffer) => (await speaker.waitForFrame("fast", (f) => f.equals(frame))).answered;

      await speaker.do("setFastPath", { socket: "fast", enabled: false });
      await client.do("send", { socket: "tap", hex: request(1).toString("hex") });
      expect(await answeredFor(request(1))).toBe(false);

      await speaker.do("setFastPath", { socket: "fast", enabled: true });
      await speaker.do("setReplyTable", { socket: "fast", ipv4: ["10.77.0.101"], ipv6: [VIP6] });
      await client.do("send", { socket: "tap", hex: request(2).toString("hex") });
      await client.do("send", { socket: "tap", hex: request(3, "10.77.0.101").toString("hex") });
      expect(await answeredFor(request(2))).toBe(false);
      expect(await answeredFor(request(3, "10.77.0.101"))).toBe(true);

      const bad = await speaker.request("setReplyTable", { socket: "fast", ipv4: [VIP4, "10.77.0.256"], ipv6: [] });
      expect(bad.error?.message).toContain('reply table: IPv4[1] is "10.77.0.256", not an IPv4 address');
      await client.do("send", { socket: "tap", hex: request(4, "10.77.0.101").toString("hex") });
      expect(await answeredFor(request(4, "10.77.0.101"))).toBe(true); // the old table stayed
      await speaker.do("setReplyTable", { socket: "fast", ipv4: [VIP4], ipv6: [VIP6] });
      expect(speaker.errors).toEqual([]);
    });
  });

  it("turns an exception thrown by onFrame into an uncaught exception of the process", async () => {
    const source = `import { openPacketSocket } from ${JSON.stringify(WRAPPER)};
      process.on("uncaughtException", (error) => { console.log("uncaught " + error.message); process.exit(0); });
      openPacketSocket("spk0", { protocols: "arp", onFrame: () => { throw new Error("boom from onFrame"); } });
      console.log("ready");`;
    const proc = spawn("ip", ["netns", "exec", NODE_NS, NODE, "--input-type=module", "-e", source], { stdio: ["ignore", "pipe", "inherit"] });
    const lines: string[] = [];
    createInterface({ input: proc.stdout }).on("line", (line) => lines.push(line));
    try {
      await eventually(() => lines.includes("ready"), { ms: 3_000, what: "the child to say ready", detail: () => lines });
      await client.do("send", { socket: "tap", hex: clientArp({ senderIp: ipv4("10.77.3.1") }).toString("hex") });
      await eventually(() => lines.includes("uncaught boom from onFrame"), { ms: 3_000, what: "the onFrame exception on stderr", detail: () => lines });
    } finally {
      proc.kill("SIGKILL");
    }
  });

  // Last: taking spk0 down drops its IPv6 address (restored below) and would disturb the tests above.
  it("reports ENETDOWN when the interface goes down and receives again once it is up", async () => {
    await speaker.do("open", { socket: "flap", ifname: "spk0", protocols: "arp" });
    ip("-n", NODE_NS, "link", "set", "spk0", "down");
    await eventually(() => speaker.errors.some((e) => JSON.stringify(e).includes('"code":"ENETDOWN"')), { ms: 3_000, what: "an ENETDOWN error", detail: () => JSON.stringify(speaker.errors) });
    ip("-n", NODE_NS, "link", "set", "spk0", "up");
    ip("-n", NODE_NS, "addr", "replace", "fd77::2/64", "dev", "spk0", "nodad");
    const request = clientArp({ senderIp: ipv4("10.77.4.1") });
    await eventually(
      async () => {
        await client.do("send", { socket: "tap", hex: request.toString("hex") });
        return speaker.framesOn("flap").some((f) => f.equals(request));
      },
      { ms: 3_000, what: "the request on the socket again after link up" },
    );
    await speaker.do("close", { socket: "flap" });
  });

  it("reports a burst of link-down errors once, pauses polling while they repeat, and reports the next burst", async () => {
    await speaker.do("open", { socket: "flaps", ifname: "spk0", protocols: "arp" });
    const downs = () => (speaker.errors as { socket: string; error: { code?: string } }[]).filter((e) => e.socket === "flaps" && e.error.code === "ENETDOWN").length;
    const link = (state: "up" | "down") => ip("-n", NODE_NS, "link", "set", "spk0", state);
    const receives = async (n: number) => {
      const request = clientArp({ senderIp: ipv4(`10.77.5.${n}`) });
      return eventually(
        async () => {
          await client.do("send", { socket: "tap", hex: request.toString("hex") });
          return speaker.framesOn("flaps").some((f) => f.equals(request));
        },
        { ms: 3_000, what: `request ${n} on the socket after link up` },
      );
    };
    try {
      link("down");
      await eventually(() => downs() === 1, { ms: 3_000, what: "one ENETDOWN report", detail: downs });
      // Each POLLERR comes back right after the socket polls again: one burst, reported once, with back-off.
      for (let i = 0; i < 5; i++) {
        link("up");
        link("down");
      }
      link("up");
      expect(await receives(1)).toBe(true); // polling resumed after the back-off (10 + 20 + 40 + ... ms)
      expect(downs()).toBe(1);
      // A frame was read, so the burst is over: the next error is reported again.
      link("down");
      await eventually(() => downs() === 2, { ms: 3_000, what: "a second ENETDOWN report", detail: downs });
      link("up");
      expect(await receives(2)).toBe(true);
    } finally {
      link("up");
      ip("-n", NODE_NS, "addr", "replace", "fd77::2/64", "dev", "spk0", "nodad");
      await speaker.do("close", { socket: "flaps" });
    }
  });
});
