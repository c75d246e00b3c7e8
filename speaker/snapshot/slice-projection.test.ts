import { describe, expect, it } from "vitest";
import { projectSlice } from "./slice-projection.ts";

describe("projectSlice", () => {
  it("keeps the Service and each endpoint's node and readiness, in the election's shape", () => {
    const raw = {
      metadata: {
        name: "web-x7k2p",
        namespace: "shop",
        resourceVersion: "9",
        labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
        ownerReferences: [{ kind: "Service", name: "web" }],
      },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.1.0.1"], nodeName: "node-1", conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod" } },
        { addresses: ["10.1.0.2"], nodeName: "node-2", conditions: { ready: false, serving: true } },
        { addresses: ["10.1.0.3"], conditions: {} },
      ],
      ports: [{ port: 8080 }],
    };
    expect(projectSlice(raw)).toEqual({
      metadata: { name: "web-x7k2p", namespace: "shop", resourceVersion: "9" },
      service: "web",
      endpoints: [
        { nodeName: "node-1", ready: true, serving: true },
        { nodeName: "node-2", ready: false, serving: true },
        { nodeName: undefined, ready: undefined, serving: undefined },
      ],
    });
  });

  it("has no Service for a slice without the label, and no endpoints for a slice without any", () => {
    expect(projectSlice({ metadata: { name: "orphan", namespace: "shop" } })).toEqual({ metadata: { name: "orphan", namespace: "shop" }, service: undefined, endpoints: [] });
  });
});
