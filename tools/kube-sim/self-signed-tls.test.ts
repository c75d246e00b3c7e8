import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createServerTls } from "./self-signed-tls.ts";

describe("createServerTls", () => {
  it("issues a server certificate signed by its CA for the given IPs and names", () => {
    const tls = createServerTls(["127.0.0.1", "::1"], ["localhost"]);
    const ca = new X509Certificate(tls.caPem);
    const leaf = new X509Certificate(tls.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkPrivateKey(createPrivateKey(tls.keyPem))).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 24 * 3600_000);
  });

  it("makes a new CA each time", () => {
    expect(createServerTls(["127.0.0.1"]).caPem).not.toBe(createServerTls(["127.0.0.1"]).caPem);
  });
});
