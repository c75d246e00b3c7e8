import { describe, expect, it } from "vitest";
import { MembershipEvidence } from "./membership-evidence.ts";
import { viewMembership, type MembershipView } from "./membership-view.ts";

const timing = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 600, leaseRenewMs: 1000 };
const THREE = ["node-1", "node-2", "node-3"];

/**
 * A small conversation between us and our peers. Every 100 ms from `from` until before `to` we
 * send a heartbeat; 5 ms later every peer sends one that relays the newest of ours it heard (and
 * what it heard of the others), unless a link is cut ("a>b": nothing from a reaches b).
 */
class Talk {
  readonly ev: MembershipEvidence;
  private ourSeq = 0;
  private readonly peerSeq = new Map<string, number>();
  /** What each peer last heard of us: our seq, and whether we were a candidate then. */
  private readonly heardUs = new Map<string, { seq: number; candidate: boolean }>();
  /** When each peer last heard each other peer directly. */
  private readonly heard = new Map<string, Map<string, { seq: number; at: number }>>();

  readonly self: string;
  readonly peers: string[];

  constructor(self: string, peers: string[], opts: { leases?: string[] } = {}) {
    this.self = self;
    this.peers = peers;
    this.ev = new MembershipEvidence(self);
    this.ev.selfStartedAt = 1;
    for (const node of opts.leases ?? [self, ...peers]) this.ev.lease(node, `${node}@1`, "1", 4000, 0);
  }

  run(from: number, to: number, opts: { cut?: string[]; candidate?: boolean; startedAt?: Record<string, number> } = {}): this {
    const cut = new Set(opts.cut ?? []);
    const candidate = opts.candidate ?? true;
    for (let t = from; t < to; t += 100) {
      const seq = this.ourSeq++;
      this.ev.sent(seq, t);
      for (const p of this.peers) if (!cut.has(`${this.self}>${p}`)) this.heardUs.set(p, { seq, candidate });
      for (const p of this.peers) {
        const pSeq = (this.peerSeq.get(p) ?? 0) + 1;
        this.peerSeq.set(p, pSeq);
        for (const q of this.peers) {
          if (q === p || cut.has(`${p}>${q}`)) continue;
          let m = this.heard.get(q);
          if (!m) this.heard.set(q, (m = new Map()));
          m.set(p, { seq: pSeq, at: t + 5 });
        }
        if (cut.has(`${p}>${this.self}`)) continue;
        const us = this.heardUs.get(p);
        const hears = [];
        if (us) hears.push({ node: this.self, startedAt: 1, seq: us.seq, candidate: us.candidate, ageMs: 5 });
        for (const [q, h] of this.heard.get(p) ?? []) {
          if (t + 5 - h.at < 600) hears.push({ node: q, startedAt: opts.startedAt?.[q] ?? 1, seq: h.seq, candidate: true, ageMs: t + 5 - h.at });
        }
        this.ev.heartbeat({ node: p, startedAt: opts.startedAt?.[p] ?? 1, seq: pSeq, candidate: true, leaving: false, hears }, t + 5);
      }
    }
    return this;
  }

  view(nowMs: number): MembershipView {
    return viewMembership(this.ev, { nowMs, selfCandidate: true, timing });
  }
}

describe("membership view: quorum", () => {
  const cases: { name: string; talk: () => Talk; at: number; quorum: boolean; connected?: string[] }[] = [
    { name: "three speakers hearing each other have quorum", talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000), at: 1000, quorum: true, connected: THREE },
    {
      name: "a node cut off from two of three keeps quorum for just under 400 ms",
      talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000),
      // Our last acknowledged heartbeat went out at 900.
      at: 1299,
      quorum: true,
    },
    { name: "a node cut off from two of three loses quorum after 400 ms", talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000), at: 1301, quorum: false, connected: ["node-1"] },
    {
      name: "a peer we hear but that does not hear us does not count",
      talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000, { cut: ["node-1>node-2", "node-1>node-3"] }),
      at: 1000,
      quorum: false,
      connected: ["node-1"],
    },
    {
      name: "a peer that hears us but that we do not hear does not count",
      talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000, { cut: ["node-2>node-1", "node-3>node-1"] }),
      at: 1000,
      quorum: false,
      connected: ["node-1"],
    },
    {
      name: "one peer of two heard both ways is a majority of three",
      talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000, { cut: ["node-1>node-3"] }),
      at: 1000,
      quorum: true,
      connected: ["node-1", "node-2"],
    },
    {
      name: "half of four including the lowest-named member keeps quorum",
      talk: () => new Talk("node-1", ["node-2", "node-3", "node-4"]).run(0, 1000, { cut: ["node-1>node-3", "node-1>node-4"] }),
      at: 1000,
      quorum: true,
      connected: ["node-1", "node-2"],
    },
    {
      name: "half of four without the lowest-named member has no quorum",
      talk: () => new Talk("node-3", ["node-1", "node-2", "node-4"]).run(0, 1000, { cut: ["node-3>node-1", "node-3>node-2"] }),
      at: 1000,
      quorum: false,
      connected: ["node-3", "node-4"],
    },
    {
      name: "peers silent long after their Leases expired still count against the quorum",
      talk: () => new Talk("node-1", ["node-2", "node-3"]).run(0, 1000),
      at: 60_000,
      quorum: false,
      connected: ["node-1"],
    },
    {
      name: "a node of two that is the lowest-named goes on alone",
      talk: () => new Talk("node-1", ["node-2"]).run(0, 1000),
      at: 60_000,
      quorum: true,
      connected: ["node-1"],
    },
    {
      name: "a node of two that is not the lowest-named does not go on alone",
      talk: () => new Talk("node-2", ["node-1"]).run(0, 1000),
      at: 60_000,
      quorum: false,
      connected: ["node-2"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const view = c.talk().view(c.at);
      expect(view.quorum).toBe(c.quorum);
      if (c.connected) expect(view.connected).toEqual(c.connected);
    });
  }
});

describe("membership view: members", () => {
  it("counts a speaker whose Lease expired, and names it silent", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    for (let t = 1000; t <= 10_000; t += 1000) talk.ev.apiContact(t);
    const view = talk.view(10_000);
    expect(view.members).toEqual(THREE);
    expect(view.silentMembers).toEqual(["node-2", "node-3"]);
  });

  it("does not call Leases silent that stopped being renewed while we could not reach the API server", () => {
    const view = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000).view(10_000);
    expect(view.apiReachable).toBe(false);
    expect(view.silentMembers).toEqual([]);
  });

  it("counts a speaker that released its Lease", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    talk.ev.lease("node-3", "", "2", 4000, 1000);
    expect(talk.view(2000).members).toEqual(THREE);
  });

  it("drops a speaker whose Lease was deleted once it is no longer heard", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    talk.ev.leaseGone("node-3");
    expect(talk.view(1000).members).toEqual(THREE);
    expect(talk.view(2000).members).toEqual(["node-1", "node-2"]);
  });

  it("counts a speaker heard of before its Lease is seen", () => {
    const view = new Talk("node-1", ["node-2", "node-3"], { leases: ["node-1"] }).run(0, 1000).view(1000);
    expect(view.members).toEqual(THREE);
  });
});

describe("membership view: live speakers", () => {
  it("keeps a peer live for the 600 ms timeout after its last counter", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    // node-2's last heartbeat arrived at 905.
    expect(talk.view(1504).live.has("node-2")).toBe(true);
    expect(talk.view(1506).live.has("node-2")).toBe(false);
  });

  it("keeps a peer we only hear of by relay live, and tells it apart", () => {
    const view = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000, { cut: ["node-3>node-1"] }).view(1000);
    expect(view.live.has("node-3")).toBe(true);
    expect(view.relayedOnly).toEqual(new Set(["node-3"]));
    expect(view.direct).toEqual(new Set(["node-2"]));
  });

  it("takes a relayed counter's age along: a relay that heard a peer long ago does not revive it", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    // node-2 tells us at 1400 of node-3's counter it learned 500 ms earlier (at 900): still live, for 100 ms more.
    talk.ev.heartbeat({ node: "node-2", startedAt: 1, seq: 100, candidate: true, leaving: false, hears: [{ node: "node-3", startedAt: 1, seq: 100, candidate: true, ageMs: 500 }] }, 1400);
    expect(talk.view(1450).live.has("node-3")).toBe(true);
    expect(talk.view(1510).live.has("node-3")).toBe(false);
  });

  it("takes a speaker that says it is leaving out at once, and nothing relayed about it brings it back", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    talk.ev.heartbeat({ node: "node-3", startedAt: 1, seq: 50, candidate: false, leaving: true, hears: [] }, 1001);
    talk.ev.heartbeat({ node: "node-2", startedAt: 1, seq: 51, candidate: true, leaving: false, hears: [{ node: "node-3", startedAt: 1, seq: 60, candidate: true, ageMs: 0 }] }, 1002);
    const view = talk.view(1003);
    expect(view.live.has("node-3")).toBe(false);
    expect(view.connected).toEqual(["node-1", "node-2"]);
  });

  it("does not take a late heartbeat from before a peer's restart as the new process's acknowledgement", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    // node-3 restarted (incarnation 2) and has not heard us yet; a datagram of incarnation 1 arrives late.
    talk.ev.heartbeat({ node: "node-3", startedAt: 2, seq: 0, candidate: false, leaving: false, hears: [] }, 1010);
    talk.ev.heartbeat({ node: "node-3", startedAt: 1, seq: 99, candidate: true, leaving: false, hears: [{ node: "node-1", startedAt: 1, seq: 9, candidate: true, ageMs: 0 }] }, 1011);
    const view = talk.view(1012);
    expect(view.acks.has("node-3")).toBe(false);
    expect(view.live.has("node-3")).toBe(false);
    expect(view.connected).toEqual(["node-1", "node-2"]);
  });
});

describe("membership view: evidence for takeovers", () => {
  it("has a recent quorum while the others' heartbeats arrive every interval", () => {
    const view = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000).view(1000);
    expect(view.recent).toEqual(new Set(THREE));
    expect(view.recentQuorum).toBe(true);
  });

  it("has no recent quorum when the only peer heard recently is not a majority with us", () => {
    const view = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000, { cut: ["node-3>node-1"] }).view(1110);
    expect(view.recent).toEqual(new Set(["node-1"]));
    expect(view.recentQuorum).toBe(false);
  });

  it("lets a dead speaker's silence count only once it was that long silent before the others last spoke", () => {
    // node-3 dies at 500; node-2 goes on.
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 500).run(500, 1400, { cut: ["node-3>node-1", "node-3>node-2"] });
    // node-3's newest counter is from 405 (relayed with its age); dead to us from 1005 on.
    const soon = talk.view(1010);
    expect(soon.live.has("node-3")).toBe(false);
    expect(soon.recentQuorum).toBe(false);
    // node-2's heartbeat of 1105 went out a full timeout and an interval after 405.
    expect(talk.view(1106).recentQuorum).toBe(true);
  });

  it("has a settled quorum once the peers have relayed us as a candidate for a whole quorum window", () => {
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 300, { candidate: false }).run(300, 1200);
    // The first acknowledgements of us as a candidate arrived at 305.
    expect(talk.view(700).settledQuorum).toBe(false);
    expect(talk.view(710).settled).toEqual(new Set(["node-2", "node-3"]));
    expect(talk.view(710).settledQuorum).toBe(true);
  });

  it("never counts ourselves as settled", () => {
    const view = new Talk("node-1", ["node-2"]).run(0, 1000, { cut: ["node-2>node-1"] }).view(1000);
    expect(view.settled).toEqual(new Set());
    expect(view.settledQuorum).toBe(false);
  });
});

describe("membership view: when quorum lapses", () => {
  it("is when the last heartbeat that keeps a majority ages out of the quorum window, and the view agrees at that instant", () => {
    // Our last acknowledged heartbeat went out at 900; the window is 400 ms.
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 1000);
    const view = talk.view(1000);
    expect(view.quorumUntil).toBe(1300);
    expect(talk.view(1299.9).quorum).toBe(true);
    expect(talk.view(1300).quorum).toBe(false);
  });

  it("follows the peer that lapses last among those a quorum needs", () => {
    // node-3 stopped hearing us at 500: its acknowledgements are of our heartbeat at 400, so it lapses at 800;
    // node-2 alone with us is still a majority of three until 1300.
    const talk = new Talk("node-1", ["node-2", "node-3"]).run(0, 500).run(500, 1000, { cut: ["node-1>node-3"] });
    expect(talk.view(700).connected).toEqual(THREE);
    expect(talk.view(700).quorumUntil).toBe(1300);
  });

  it("needs every peer of an even split including the lowest-named member", () => {
    // Half of four with node-1, the lowest-named: losing node-2 loses quorum.
    const talk = new Talk("node-1", ["node-2", "node-3", "node-4"]).run(0, 1000, { cut: ["node-1>node-3", "node-1>node-4"] });
    expect(talk.view(1000).quorumUntil).toBe(1300);
    // Without the lowest-named member, half is no quorum at all.
    const other = new Talk("node-3", ["node-1", "node-2", "node-4"]).run(0, 1000, { cut: ["node-3>node-1", "node-3>node-2"] });
    expect(other.view(1000).quorumUntil).toBe(-Infinity);
  });

  it("never lapses for a speaker that is a quorum alone", () => {
    const talk = new Talk("node-1", ["node-2"]).run(0, 1000);
    expect(talk.view(60_000).quorum).toBe(true);
    expect(talk.view(60_000).quorumUntil).toBe(Infinity);
  });
});
