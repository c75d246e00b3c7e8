import { describe, expect, it } from "vitest";
import { projectNode } from "./node.ts";

describe("projectNode", () => {
  it("keeps name, labels, conditions and the InternalIP and ExternalIP addresses (the speakers' heartbeat targets)", () => {
    const raw = {
      metadata: { name: "node-1", uid: "u-1", resourceVersion: "7", labels: { edge: "true" }, managedFields: [{ manager: "kubelet" }] },
      status: {
        conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2026-01-01T00:00:00Z", message: "kubelet is posting ready status" }],
        addresses: [
          { type: "InternalIP", address: "192.168.126.11" },
          { type: "Hostname", address: "node-1" },
          { type: "ExternalIP", address: "203.0.113.7" },
          { type: "InternalIP", address: "" },
        ],
        images: [{ names: ["nginx"], sizeBytes: 1 }],
      },
    };
    expect(projectNode(raw)).toEqual({
      metadata: { name: "node-1", uid: "u-1", resourceVersion: "7", labels: { edge: "true" } },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        addresses: [
          { type: "InternalIP", address: "192.168.126.11" },
          { type: "ExternalIP", address: "203.0.113.7" },
        ],
      },
    });
  });

  it("leaves addresses out when the Node has none", () => {
    expect(projectNode({ metadata: { name: "node-2" }, status: { addresses: [{ type: "Hostname", address: "node-2" }] } })).toEqual({
      metadata: { name: "node-2" },
      status: { conditions: [] },
    });
  });
});
