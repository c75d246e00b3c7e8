/**
 * Proof on a real kernel of the reply-style GARP choice in arp.ts: within the neighbour locktime (1 s by default) Linux
 * ignores a reply-style GARP whose target MAC is broadcast (what MetalLB sends) but takes ours (target MAC =
 * sender MAC) and the request-style one. Frames are injected on a veth pair between two namespaces through an
 * AF_PACKET socket opened by python3 (the speaker's own packet socket is not needed for this).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirements } from "../../test/support/requirements.ts";
import { ARP_REPLY, encodeArp, garpReply, garpRequest } from "./arp.ts";
import { BROADCAST_MAC, ETHERTYPE_ARP, encodeEthernet } from "./ethernet.ts";

const A = "blb-garp-a";
const B = "blb-garp-b";
const VIP = Uint8Array.of(192, 0, 2, 50);
const mac = (n: number) => Uint8Array.of(2, 0, 0, 0, 0, n);
const skip = requirements({ root: "creates network namespaces and sends raw frames", tools: ["ip", "python3"] });

function inject(frame: Buffer): void {
  const send = "import socket,sys; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('vb',0)); s.send(bytes.fromhex(sys.argv[1]))";
  execFileSync("ip", ["netns", "exec", B, "python3", "-c", send, frame.toString("hex")]);
}

/** Sets the neighbour locktime (Linux default 1 s) of A's interface; long ones keep slow process spawns inside it. */
function setLocktime(ms: number): void {
  execFileSync("ip", ["-n", A, "ntable", "change", "name", "arp_cache", "dev", "va", "locktime", String(ms)]);
}

/** Sets A's entry for the VIP to 02:00:00:00:00:11 now, which starts its locktime. */
function seed(): void {
  execFileSync("ip", ["-n", A, "neigh", "replace", "192.0.2.50", "lladdr", "02:00:00:00:00:11", "dev", "va", "nud", "reachable"]);
}

function entryMac(): string {
  const out = execFileSync("ip", ["-n", A, "neigh", "show", "192.0.2.50", "dev", "va"], { encoding: "utf8" });
  return /lladdr (\S+)/.exec(out)?.[1] ?? `no entry: ${out}`;
}

function metallbStyleReply(sender: Uint8Array): Buffer {
  const arp = encodeArp({ operation: ARP_REPLY, senderMac: sender, senderIp: VIP, targetMac: BROADCAST_MAC, targetIp: VIP });
  return encodeEthernet({ destination: BROADCAST_MAC, source: sender, etherType: ETHERTYPE_ARP, payload: arp });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));


describe.skipIf(skip)("gratuitous ARP on a Linux client (needs root, iproute2 and python3; creates network namespaces)", () => {
  beforeAll(() => {
    for (const ns of [A, B]) spawnSync("ip", ["netns", "del", ns]);
    execFileSync("ip", ["netns", "add", A]);
    execFileSync("ip", ["netns", "add", B]);
    execFileSync("ip", ["link", "add", "va", "netns", A, "type", "veth", "peer", "name", "vb", "netns", B]);
    execFileSync("ip", ["-n", A, "addr", "add", "192.0.2.10/24", "dev", "va"]);
    execFileSync("ip", ["-n", A, "link", "set", "va", "up"]);
    execFileSync("ip", ["-n", B, "link", "set", "vb", "up"]);
  });
  afterAll(() => {
    for (const ns of [A, B]) spawnSync("ip", ["netns", "del", ns]);
  });

  it("within the locktime ignores MetalLB's reply-style GARP but takes ours", async () => {
    setLocktime(10_000);
    seed();
    inject(metallbStyleReply(mac(0x22)));
    await settle();
    expect(entryMac()).toBe("02:00:00:00:00:11");
    inject(garpReply(mac(0x33), VIP));
    await settle();
    expect(entryMac()).toBe("02:00:00:00:00:33");
  });

  it("within the locktime takes the request-style GARP", async () => {
    setLocktime(10_000);
    seed();
    inject(garpRequest(mac(0x44), VIP));
    await settle();
    expect(entryMac()).toBe("02:00:00:00:00:44");
  });

  it("after the locktime takes MetalLB's reply-style GARP too", async () => {
    setLocktime(200);
    seed();
    await new Promise((resolve) => setTimeout(resolve, 400));
    inject(metallbStyleReply(mac(0x22)));
    await settle();
    expect(entryMac()).toBe("02:00:00:00:00:22");
  });
});
