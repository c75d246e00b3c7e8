import { describe, expect, it } from "vitest";
import { ipv4, ipv6 } from "../../test/support/test-frames.ts";
import { announcementFrames } from "./announcement-frames.ts";
import { GARP_REPLY, GARP_REQUEST, MAC_B, NEIGHBOR_ADVERTISEMENT_UNSOLICITED } from "./testdata/captured-frames.ts";

describe("announcementFrames", () => {
  it("sends a request-style then a reply-style GARP for an IPv4 VIP", () => {
    expect(announcementFrames(MAC_B, ipv4("192.0.2.11"))).toEqual([GARP_REQUEST, GARP_REPLY]);
  });

  it("sends one unsolicited NA to ff02::1 with Override for an IPv6 VIP", () => {
    expect(announcementFrames(MAC_B, ipv6("2001:db8::b"))).toEqual([NEIGHBOR_ADVERTISEMENT_UNSOLICITED]);
  });

  it("rejects an address of another length", () => {
    expect(() => announcementFrames(MAC_B, new Uint8Array(5))).toThrow("announcementFrames needs a 4- or 16-byte IP, got 5 bytes");
  });
});
