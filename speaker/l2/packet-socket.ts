/**
 * AF_PACKET sockets for the speaker's ARP/NDP responder: a thin typed wrapper over the native addon
 * in speaker/native (built by `npm ci` / `npm run install`). Linux only; needs CAP_NET_RAW.
 *
 * The kernel filters each socket to ARP requests and replies and ICMPv6 Neighbour Solicitations and
 * Advertisements; frames arrive on the Node event loop. Optionally the addon answers ARP requests and
 * Neighbour Solicitations for the VIPs in its reply table itself (the fast path), before JavaScript
 * sees the frame.
 *
 * @example
 * const socket = openPacketSocket("eth0", {
 *   protocols: "both",
 *   onFrame: (frame, info) => { if (!info.answered) handle(frame); },
 * });
 * socket.setReplyTable({ ipv4: ["192.168.1.240"], ipv6: ["fd00::240"] });
 * socket.setFastPath(true);
 * socket.addMembership(Buffer.from("3333ff000240", "hex")); // solicited-node group of fd00::240
 * socket.close();
 */
import { loadNativeAddon } from "../native/load-addon.ts";
import { monotonicOffsetMs } from "../native/monotonic-clock.ts";

/** How the frame was addressed, from the kernel's sll_pkttype. */
export type PacketType = "host" | "broadcast" | "multicast" | "otherhost" | "outgoing";

/** What the kernel and the addon know about a received frame. */
export interface FrameInfo {
  /** The interface the frame arrived on. */
  ifindex: number;
  packetType: PacketType;
  /** True when the native fast path already sent the reply to this frame. */
  answered: boolean;
}

/** The VIPs the fast path answers for: IPv4 ARP targets and IPv6 Neighbour Solicitation targets. */
export interface ReplyTable {
  ipv4: readonly (string | Uint8Array)[];
  ipv6: readonly (string | Uint8Array)[];
}

export interface PacketSocketOptions {
  /** Which frames to receive: ARP only, NDP (NS/NA) only, or both. */
  protocols: "arp" | "ndp" | "both";
  /** Called on the event loop for every frame that passed the kernel filter. */
  onFrame: (frame: Buffer, info: FrameInfo) => void;
  /**
   * Called for errors that surface while reading or in the fast path; the socket stays open. ENETDOWN means the
   * interface went down: frames resume when it is up again, but if it was deleted the socket stays deaf and must
   * be reopened (a new interface of the same name has a new ifindex). Defaults to a process warning.
   */
  onError?: (error: NodeJS.ErrnoException) => void;
}

/** An open packet socket bound to one interface. Errors thrown carry `code` (errno name) and `syscall`. */
export interface PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /**
   * The interface's MAC address (6 bytes), read when the socket was opened. The same Buffer on every read (the
   * responder reads it for every frame): don't modify it. The native fast path keeps its own copy.
   */
  readonly mac: Buffer;
  readonly closed: boolean;
  /** Transmits a complete Ethernet frame (no FCS); throws on ENOBUFS, EAGAIN, ENETDOWN, EMSGSIZE... */
  send(frame: Uint8Array): void;
  /** Receives frames sent to a link-layer multicast group, e.g. 33:33:ff:xx:xx:xx for a VIP's solicited-node group. */
  addMembership(mac: Uint8Array): void;
  dropMembership(mac: Uint8Array): void;
  /** Replaces the fast path's VIP table (all or nothing: a bad entry throws and leaves the old table). */
  setReplyTable(table: ReplyTable): void;
  /** Turns the native fast path on or off (off when opened). */
  setFastPath(enabled: boolean): void;
  /**
   * The native fast path answers only before `atMs` (performance.now()'s clock; Infinity when opened), and
   * leaves later frames to JavaScript.
   */
  setAnswerUntil(atMs: number): void;
  /** Whether the open socket keeps the process alive (it does by default). */
  ref(): void;
  unref(): void;
  /** Closes the socket at once; idempotent. */
  close(): void;
  /**
   * The kernel's counts since the previous call (each call resets them): frames queued to the socket (dropped ones
   * included) and frames dropped because its receive queue was full. Throws EBADF once closed.
   */
  stats(): PacketSocketStats;
}

export interface PacketSocketStats {
  packets: number;
  drops: number;
}

interface NativeSocket {
  readonly ifindex: number;
  readonly mac: Buffer;
  readonly closed: boolean;
  send(frame: Uint8Array): void;
  addMembership(mac: Uint8Array): void;
  dropMembership(mac: Uint8Array): void;
  setReplyTable(ipv4: ReplyTable["ipv4"], ipv6: ReplyTable["ipv6"]): void;
  setFastPath(enabled: boolean): void;
  setAnswerUntil(monotonicMs: number): void;
  ref(): void;
  unref(): void;
  close(): void;
  stats(): PacketSocketStats;
}

interface NativeAddon {
  PacketSocket: new (
    ifname: string,
    protocols: string,
    onFrame: (frame: Buffer, packetType: number, answered: boolean) => void,
    onError: (error: NodeJS.ErrnoException) => void,
  ) => NativeSocket;
  buildFastReply(frame: Uint8Array, mac: Uint8Array, ipv4: ReplyTable["ipv4"], ipv6: ReplyTable["ipv6"]): Buffer | null;
}

const packetTypes: readonly PacketType[] = ["host", "broadcast", "multicast", "otherhost", "outgoing"];
const loadAddon = () => loadNativeAddon<NativeAddon>();

/**
 * Opens a packet socket on `ifname`. Throws with code ENODEV for a missing interface and EPERM
 * without CAP_NET_RAW.
 *
 * @example
 * const socket = openPacketSocket("eth0", { protocols: "arp", onFrame: (frame) => console.log(frame.length) });
 */
export function openPacketSocket(ifname: string, options: PacketSocketOptions): PacketSocket {
  const { onFrame, onError = (error) => process.emitWarning(error) } = options;
  let ifindex = 0;
  const native = new (loadAddon().PacketSocket)(
    ifname,
    options.protocols,
    (frame, packetType, answered) =>
      onFrame(frame, { ifindex, packetType: packetTypes[packetType] ?? "otherhost", answered }),
    onError,
  );
  ifindex = native.ifindex;
  return {
    ifname,
    ifindex,
    mac: native.mac,
    get closed() {
      return native.closed;
    },
    send: (frame) => native.send(frame),
    addMembership: (group) => native.addMembership(group),
    dropMembership: (group) => native.dropMembership(group),
    setReplyTable: (table) => native.setReplyTable(table.ipv4, table.ipv6),
    setFastPath: (enabled) => native.setFastPath(enabled),
    // The addon reads uv_hrtime's clock; performance.now() is that clock less the process's origin.
    setAnswerUntil: (atMs) => native.setAnswerUntil(atMs + monotonicOffsetMs()),
    ref: () => native.ref(),
    unref: () => native.unref(),
    close: () => native.close(),
    stats: () => native.stats(),
  };
}

/**
 * The reply the native fast path would send for `frame` on an interface with MAC `mac` answering for
 * `table`, or null when it would not answer. No socket, no privileges: for tests and diagnostics.
 *
 * @example
 * previewFastReply(arpRequestFrame, mac, { ipv4: ["192.168.1.240"], ipv6: [] }); // 42-byte ARP reply
 */
export function previewFastReply(frame: Uint8Array, mac: Uint8Array, table: ReplyTable): Buffer | null {
  return loadAddon().buildFastReply(frame, mac, table.ipv4, table.ipv6);
}
