/**
 * The speakers' heartbeat datagram as a value: `encodeHeartbeat(hb, key) → bytes` and
 * `decodeHeartbeat(bytes, keys) → heartbeat | reason`, with no socket and no clock. Every datagram is
 * authenticated with HMAC-SHA-256 under a cluster key (the Secret `memberlist`, see heartbeat-keys.ts), so a
 * host on the LAN can neither forge a heartbeat nor a "leaving" one.
 *
 * Wire format (all integers big-endian):
 *
 * | offset | size | field                                                                        |
 * |--------|------|------------------------------------------------------------------------------|
 * | 0      | 2    | magic "BL" (0x42 0x4c)                                                       |
 * | 2      | 1    | version, 2 (1 carried `hears` without counters and is refused)               |
 * | 3      | 1    | flags: 0x01 leaving, 0x02 candidate, 0x04 apiReachable; other bits zero      |
 * | 4      | 8    | key id: the first 8 bytes of HMAC-SHA-256(key, "baremetal-lb heartbeat key id") |
 * | 12     | 6    | startedAt, wall-clock ms                                                     |
 * | 18     | 6    | sentAt, wall-clock ms                                                        |
 * | 24     | 6    | seq                                                                          |
 * | 30     | 1+n  | node: length n (1..253), UTF-8 bytes                                         |
 * | …      | 1+m  | identity: length m (1..255), UTF-8 bytes                                     |
 * | …      | 2    | k, the number of `hears` entries                                             |
 * | …      | k ×  | hears entry, 18+p bytes (below)                                              |
 * | end-32 | 32   | HMAC-SHA-256(key, every byte before it)                                      |
 *
 * A hears entry is a relayed heartbeat counter (see membership-evidence.ts): the newest heartbeat of a peer
 * the sender knows of, and how long ago the sender learned it.
 *
 * | size | field                                                                 |
 * |------|-----------------------------------------------------------------------|
 * | 1+p  | node: length p (1..253), UTF-8 bytes                                  |
 * | 6    | startedAt of the peer's process, wall-clock ms                        |
 * | 6    | seq, the peer's heartbeat counter                                     |
 * | 4    | ageMs, sender's monotonic clock; 2^32-1 means that long ago or longer |
 * | 1    | flags: 0x01 candidate; other bits zero                                |
 *
 * The key id is in the clear so the receiver picks the key among those it accepts (several during a
 * rotation). It is derived under a label, never a bare hash of the key, so nothing published here relates to
 * other uses of the same Secret (MetalLB's memberlist reads it too during a migration). The MAC is checked
 * (in constant time) before any byte after the header is parsed. The largest datagram is 65,507 bytes (the
 * largest IPv4 UDP payload). Everything but `hears` takes at most 574 bytes (30 + 254 + 256 + 2 + 32) and a
 * hears entry at most 271 (a 253-byte name), so 100 peers with the longest legal node names take 27,674
 * bytes and 239 of them fit; with typical 30-character names (48-byte entries) about 1,350 peers fit.
 *
 * Replay and freshness are not the codec's business: see heartbeat-replay-guard.ts.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HeartbeatEvidence, RelayedCounter } from "./membership-evidence.ts";

/** What a speaker says about itself in each heartbeat. */
export interface HeartbeatBody {
  /** Graceful shutdown. */
  leaving: boolean;
  /** The sender is synced and may own VIPs. */
  candidate: boolean;
  /** The sender's own view of the API server. */
  apiReachable: boolean;
  /** The newest heartbeat counter the sender knows of each peer it learned of recently (directly or relayed). */
  hears: readonly RelayedCounter[];
}

/**
 * One heartbeat: the body plus who sent it and when. It is the {@link HeartbeatEvidence} membership takes in
 * (the compiler refuses this declaration should the two ever disagree).
 */
export interface Heartbeat extends HeartbeatBody, HeartbeatEvidence {
  /** Sender node name. */
  node: string;
  /** Sender process identity, new at every start. */
  identity: string;
  /** Sender process start, wall clock ms (orders identities of one node). */
  startedAt: number;
  /** Per identity, strictly increasing. */
  seq: number;
  /** Wall clock ms at send. */
  sentAt: number;
}

/** One cluster key and the id that names it on the wire. */
export interface HeartbeatKey {
  /** 8 bytes, sent in the clear. */
  readonly id: Buffer;
  /** `id` in lower-case hex: the lookup key of {@link HeartbeatKeys.accepted}, safe to log. */
  readonly idHex: string;
  readonly secret: Buffer;
}

/** The keys in force: one signs what we send, any accepted one verifies what we receive. */
export interface HeartbeatKeys {
  readonly signing: HeartbeatKey;
  /** By `idHex`; includes the signing key. */
  readonly accepted: ReadonlyMap<string, HeartbeatKey>;
}

/**
 * Why a datagram was dropped before it was authenticated, or why an authenticated one made no sense.
 * - `bad-length`: shorter than the smallest heartbeat or longer than the largest;
 * - `unknown-format`: no "BL" magic: not a heartbeat at all (also the JSON heartbeats of speakers before 0.2);
 * - `bad-version`: a heartbeat version this speaker does not know;
 * - `unknown-key`: signed with a key we do not hold (a stale or foreign key);
 * - `bad-mac`: the MAC does not match: forged or corrupted;
 * - `malformed`: authentic, but its fields do not parse (a buggy sender holding the key).
 */
export type HeartbeatDecodeDropReason = "bad-length" | "unknown-format" | "bad-version" | "unknown-key" | "bad-mac" | "malformed";

/** Bytes of the MAC that ends every datagram. */
export const heartbeatMacBytes = 32;
/** The largest datagram sent or accepted: the largest IPv4 UDP payload. */
export const maxHeartbeatBytes = 65_507;

const magic0 = 0x42; // "B"
const magic1 = 0x4c; // "L"
const version = 2;
const flagLeaving = 0x01;
const flagCandidate = 0x02;
const flagApiReachable = 0x04;
const knownFlags = flagLeaving | flagCandidate | flagApiReachable;
const hearsFlagCandidate = 0x01;
const knownHearsFlags = hearsFlagCandidate;
/** A hears entry after its name: startedAt, seq, ageMs, flags. */
const hearsFixedBytes = 6 + 6 + 4 + 1;
const keyIdBytes = 8;
const keyIdLabel = "baremetal-lb heartbeat key id";
const headerBytes = 30; // magic, version, flags, key id, startedAt, sentAt, seq
const maxNodeNameBytes = 253;
const maxIdentityBytes = 255;
const maxUint48 = 2 ** 48 - 1;
const maxUint32 = 2 ** 32 - 1;
/** Header, a 1-byte node name, a 1-byte identity, an empty `hears` and the MAC. */
const minHeartbeatBytes = headerBytes + 2 + 2 + 2 + heartbeatMacBytes;

/**
 * Makes a {@link HeartbeatKey} from key material (at least 16 bytes; heartbeat-keys.ts enforces that).
 *
 * @example
 * const key = heartbeatKeyOf(Buffer.from(secret.data.secretkey, "base64"));
 * key.idHex; // "9c0e…", the id other speakers see on the wire
 */
export function heartbeatKeyOf(secret: Uint8Array): HeartbeatKey {
  const material = Buffer.from(secret);
  const id = createHmac("sha256", material).update(keyIdLabel).digest().subarray(0, keyIdBytes);
  return { id, idHex: id.toString("hex"), secret: material };
}

/**
 * Encodes and signs a heartbeat. Throws a RangeError naming the field when a value cannot be put on the wire
 * (an empty or over-long name, a seq or time outside 0..2^48-1, an `ageMs` that is not a whole number of ms
 * or is negative, a datagram over {@link maxHeartbeatBytes}); an `ageMs` over 2^32-1 (49.7 days) is sent as
 * 2^32-1.
 *
 * @example
 * socket.send(encodeHeartbeat({ node: "n1", identity: "n1_3f2a", startedAt, seq: 7, sentAt: Date.now(), leaving: false, candidate: true, apiReachable: true, hears: [] }, keys.signing), port, addr);
 */
export function encodeHeartbeat(hb: Heartbeat, key: HeartbeatKey): Buffer {
  const node = nameBytes(hb.node, "node", maxNodeNameBytes);
  const identity = nameBytes(hb.identity, "identity", maxIdentityBytes);
  const hears = hb.hears.map((h, i) => ({
    node: nameBytes(h.node, `hears[${i}].node`, maxNodeNameBytes),
    startedAt: uint48(h.startedAt, `hears[${i}].startedAt`),
    seq: uint48(h.seq, `hears[${i}].seq`),
    ageMs: ageOf(h.ageMs, `hears[${i}].ageMs`),
    flags: h.candidate ? hearsFlagCandidate : 0,
  }));
  const size = headerBytes + 1 + node.length + 1 + identity.length + 2 + hears.reduce((n, h) => n + 1 + h.node.length + hearsFixedBytes, 0) + heartbeatMacBytes;
  if (hears.length > 0xffff || size > maxHeartbeatBytes) {
    throw new RangeError(`heartbeat of ${size} bytes with ${hears.length} entries in hears is over the ${maxHeartbeatBytes}-byte limit of one UDP datagram`);
  }
  const buf = Buffer.alloc(size);
  buf[0] = magic0;
  buf[1] = magic1;
  buf[2] = version;
  buf[3] = (hb.leaving ? flagLeaving : 0) | (hb.candidate ? flagCandidate : 0) | (hb.apiReachable ? flagApiReachable : 0);
  key.id.copy(buf, 4);
  buf.writeUIntBE(uint48(hb.startedAt, "startedAt"), 12, 6);
  buf.writeUIntBE(uint48(hb.sentAt, "sentAt"), 18, 6);
  buf.writeUIntBE(uint48(hb.seq, "seq"), 24, 6);
  let at = headerBytes;
  at = putName(buf, at, node);
  at = putName(buf, at, identity);
  at = buf.writeUInt16BE(hears.length, at);
  for (const h of hears) {
    at = putName(buf, at, h.node);
    at = buf.writeUIntBE(h.startedAt, at, 6);
    at = buf.writeUIntBE(h.seq, at, 6);
    at = buf.writeUInt32BE(h.ageMs, at);
    at = buf.writeUInt8(h.flags, at);
  }
  mac(key.secret, buf.subarray(0, at)).copy(buf, at);
  return buf;
}

/**
 * Authenticates and decodes a datagram. Never throws: anything from the network that is not a heartbeat
 * signed with one of `keys.accepted` yields a {@link HeartbeatDecodeDropReason}.
 *
 * @example
 * const d = decodeHeartbeat(datagram, keys);
 * if (!d.ok) metrics.heartbeatsDropped.inc({ reason: d.reason });
 */
export function decodeHeartbeat(
  buf: Uint8Array,
  keys: HeartbeatKeys,
): { ok: true; heartbeat: Heartbeat; keyId: string } | { ok: false; reason: HeartbeatDecodeDropReason } {
  if (buf.length < minHeartbeatBytes || buf.length > maxHeartbeatBytes) return { ok: false, reason: "bad-length" };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] !== magic0 || b[1] !== magic1) return { ok: false, reason: "unknown-format" };
  if (b[2] !== version) return { ok: false, reason: "bad-version" };
  const keyId = b.toString("hex", 4, 4 + keyIdBytes);
  const key = keys.accepted.get(keyId);
  if (!key) return { ok: false, reason: "unknown-key" };
  const macAt = b.length - heartbeatMacBytes;
  if (!timingSafeEqual(mac(key.secret, b.subarray(0, macAt)), b.subarray(macAt))) return { ok: false, reason: "bad-mac" };
  const heartbeat = parseAuthenticated(b, macAt);
  return heartbeat ? { ok: true, heartbeat, keyId } : { ok: false, reason: "malformed" };
}

/**
 * Decodes a datagram the native heartbeat thread has already authenticated (native/heartbeat_codec.cc, the same
 * checks as {@link decodeHeartbeat}): the fields only, without computing the MAC again. Never for bytes straight
 * from the network.
 *
 * @example
 * const hb = decodeVerifiedHeartbeat(event.datagram); // undefined: not a well-formed heartbeat
 */
export function decodeVerifiedHeartbeat(buf: Uint8Array): Heartbeat | undefined {
  if (buf.length < minHeartbeatBytes || buf.length > maxHeartbeatBytes) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] !== magic0 || b[1] !== magic1 || b[2] !== version) return undefined;
  return parseAuthenticated(b, b.length - heartbeatMacBytes);
}

/** The fields of an authenticated datagram (MAC excluded), or undefined when they do not parse. */
function parseAuthenticated(b: Buffer, end: number): Heartbeat | undefined {
  const flags = b[3];
  if ((flags & ~knownFlags) !== 0) return undefined;
  const reader = { at: headerBytes };
  const node = takeName(b, end, reader, maxNodeNameBytes);
  const identity = takeName(b, end, reader, maxIdentityBytes);
  if (node === undefined || identity === undefined || reader.at + 2 > end) return undefined;
  const count = b.readUInt16BE(reader.at);
  reader.at += 2;
  const hears: RelayedCounter[] = [];
  for (let i = 0; i < count; i++) {
    const peer = takeName(b, end, reader, maxNodeNameBytes);
    if (peer === undefined || reader.at + hearsFixedBytes > end) return undefined;
    const at = reader.at;
    const entryFlags = b[at + 16];
    if ((entryFlags & ~knownHearsFlags) !== 0) return undefined;
    hears.push({
      node: peer,
      startedAt: b.readUIntBE(at, 6),
      seq: b.readUIntBE(at + 6, 6),
      candidate: (entryFlags & hearsFlagCandidate) !== 0,
      ageMs: b.readUInt32BE(at + 12),
    });
    reader.at = at + hearsFixedBytes;
  }
  if (reader.at !== end) return undefined;
  return {
    node,
    identity,
    startedAt: b.readUIntBE(12, 6),
    seq: b.readUIntBE(24, 6),
    sentAt: b.readUIntBE(18, 6),
    leaving: (flags & flagLeaving) !== 0,
    candidate: (flags & flagCandidate) !== 0,
    apiReachable: (flags & flagApiReachable) !== 0,
    hears,
  };
}

// ignoreBOM keeps a leading U+FEFF in the name, so every name decodes to what its sender encoded.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function takeName(b: Buffer, end: number, reader: { at: number }, max: number): string | undefined {
  if (reader.at >= end) return undefined;
  const length = b[reader.at];
  const start = reader.at + 1;
  if (length === 0 || length > max || start + length > end) return undefined;
  reader.at = start + length;
  try {
    return utf8.decode(b.subarray(start, start + length));
  } catch {
    return undefined;
  }
}

function putName(buf: Buffer, at: number, name: Buffer): number {
  buf[at] = name.length;
  name.copy(buf, at + 1);
  return at + 1 + name.length;
}

function nameBytes(value: string, field: string, max: number): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length === 0 || bytes.length > max) {
    throw new RangeError(`heartbeat ${field} must be 1 to ${max} bytes of UTF-8, got ${bytes.length}: ${JSON.stringify(value.slice(0, 40))}`);
  }
  return bytes;
}

function uint48(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > maxUint48) {
    throw new RangeError(`heartbeat ${field} must be an integer from 0 to 2^48-1, got ${value}`);
  }
  return value;
}

function ageOf(ageMs: number, field: string): number {
  if (!Number.isInteger(ageMs) || ageMs < 0) {
    throw new RangeError(`heartbeat ${field} must be a whole number of ms from 0 up, got ${ageMs}`);
  }
  return Math.min(ageMs, maxUint32);
}

function mac(secret: Buffer, data: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(data).digest();
}
