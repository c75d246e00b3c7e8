import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { selectCurrentContext, type KubeconfigSelection } from "./kubeconfig-file.ts";

const pem = (label: string) => `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A one-context kubeconfig with the given cluster and user fields. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
    users: user === undefined ? [] : [{ name: "u", user }],
    contexts: [{ name: "ctx", context: user === undefined ? { cluster: "c" } : { cluster: "c", user: "u" } }],
    "current-context": "ctx",
    ...extra,
  });
}

const select = (text: string, path = "/home/me/.kube/config"): KubeconfigSelection => selectCurrentContext([{ path, text }]);

describe("selectCurrentContext picks the current context's cluster and user", () => {
  const cases: [string, string, Partial<KubeconfigSelection["cluster"]>, KubeconfigSelection["user"]][] = [
    ["a bearer token", kubeconfig({}, { token: "abc" }), { server: "https://10.0.0.1:6443", insecureSkipTlsVerify: false }, { token: "abc" }],
    ["a token file, relative to the kubeconfig", kubeconfig({}, { tokenFile: "tokens/t" }), {}, { tokenFile: "/home/me/.kube/tokens/t" }],
    ["an absolute token file", kubeconfig({}, { tokenFile: "/run/t" }), {}, { tokenFile: "/run/t" }],
    [
      "client certificate and key data",
      kubeconfig({}, { "client-certificate-data": b64(pem("CERTIFICATE")), "client-key-data": b64(pem("PRIVATE KEY")) }),
      {},
      { certData: pem("CERTIFICATE"), keyData: pem("PRIVATE KEY") },
    ],
    ["client certificate and key files", kubeconfig({}, { "client-certificate": "pki/u.crt", "client-key": "/etc/pki/u.key" }), {}, { certFile: "/home/me/.kube/pki/u.crt", keyFile: "/etc/pki/u.key" }],
    ["CA data", kubeconfig({ "certificate-authority-data": b64(pem("CERTIFICATE")) }, { token: "t" }), { caData: pem("CERTIFICATE"), caDataBase64: b64(pem("CERTIFICATE")) }, { token: "t" }],
    ["a CA file, relative to the kubeconfig", kubeconfig({ "certificate-authority": "ca.crt" }, { token: "t" }), { caFile: "/home/me/.kube/ca.crt" }, { token: "t" }],
    ["insecure-skip-tls-verify", kubeconfig({ "insecure-skip-tls-verify": true }, { token: "t" }), { insecureSkipTlsVerify: true }, { token: "t" }],
    ["tls-server-name", kubeconfig({ "tls-server-name": "kubernetes.default" }, { token: "t" }), { tlsServerName: "kubernetes.default" }, { token: "t" }],
    ["basic auth", kubeconfig({}, { username: "admin", password: "secret" }), {}, { username: "admin", password: "secret" }],
    ["a context without a user", kubeconfig({}, undefined), {}, {}],
    ["a trailing slash on the server is dropped", kubeconfig({ server: "https://k8s.example/prefix/" }, { token: "t" }), { server: "https://k8s.example/prefix" }, { token: "t" }],
    [
      "an exec plugin",
      kubeconfig({}, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "bin/get-token", args: ["--x"], env: [{ name: "A", value: "1" }], interactiveMode: "Never", provideClusterInfo: true } }),
      {},
      {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: "/home/me/.kube/bin/get-token",
          args: ["--x"],
          env: [{ name: "A", value: "1" }],
          provideClusterInfo: true,
          interactiveMode: "Never",
        },
      },
    ],
    [
      "an exec plugin on PATH (v1beta1, no interactiveMode)",
      kubeconfig({}, { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token"] } }),
      {},
      { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token"], env: [], provideClusterInfo: false } },
    ],
  ];
  for (const [name, text, cluster, user] of cases) {
    it(name, () => {
      const sel = select(text);
      expect(sel.source).toBe("kubeconfig /home/me/.kube/config");
      expect(sel.context).toBe("ctx");
      expect(sel.cluster).toMatchObject(cluster);
      expect(sel.user).toEqual(user);
    });
  }

  it("hands an exec plugin the cluster's exec extension", () => {
    const text = kubeconfig({ extensions: [{ name: "client.authentication.k8s.io/exec", extension: { audience: "x" } }] }, { token: "t" });
    expect(select(text).cluster.execExtension).toEqual({ audience: "x" });
  });
});

describe("selectCurrentContext refuses a kubeconfig it cannot use, saying what to fix", () => {
  const cases: [string, string, string | RegExp][] = [
    ["no current-context", kubeconfig({}, { token: "t" }, { "current-context": "" }), "kubeconfig /home/me/.kube/config has no current cluster; set current-context"],
    ["an empty file", "", "kubeconfig /home/me/.kube/config has no current cluster; set current-context"],
    ["a current-context that is not defined", kubeconfig({}, { token: "t" }, { "current-context": "other" }), /has no current cluster; set current-context \(context "other" is not in contexts\)/],
    [
      "a context naming a missing cluster",
      stringify({ contexts: [{ name: "ctx", context: { cluster: "gone" } }], "current-context": "ctx" }),
      /has no current cluster; set current-context \(context "ctx" names cluster "gone", which is not in clusters\)/,
    ],
    [
      "a context naming a missing user",
      stringify({ clusters: [{ name: "c", cluster: { server: "https://x" } }], contexts: [{ name: "ctx", context: { cluster: "c", user: "nobody" } }], "current-context": "ctx" }),
      'kubeconfig /home/me/.kube/config: context "ctx" names user "nobody", which is not in users',
    ],
    [
      "an auth-provider user",
      kubeconfig({}, { "auth-provider": { name: "oidc", config: {} } }),
      /kubeconfig \/home\/me\/.kube\/config: user "u" uses auth-provider "oidc", which baremetal-lb does not support; use token, tokenFile, client-certificate\(-data\)\/client-key\(-data\), username\/password or exec/,
    ],
    ["impersonation", kubeconfig({}, { token: "t", as: "admin" }), /user "u" uses impersonation \(as\)/],
    ["a cluster without a server", kubeconfig({ server: "" }, { token: "t" }), /cluster "c" has no server; set clusters\[\].cluster.server/],
    ["a server that is not a URL", kubeconfig({ server: "10.0.0.1:6443" }, { token: "t" }), /server "10.0.0.1:6443" is not a URL; write it as https:\/\/HOST:PORT/],
    ["a server that is not HTTP", kubeconfig({ server: "ftp://10.0.0.1" }, { token: "t" }), /server "ftp:\/\/10.0.0.1" must start with https:\/\/ or http:\/\//],
    ["insecure plus a CA", kubeconfig({ "insecure-skip-tls-verify": true, "certificate-authority": "/ca" }, { token: "t" }), /insecure-skip-tls-verify cannot be combined with a certificate authority/],
    ["CA data that is not PEM", kubeconfig({ "certificate-authority-data": b64("garbage") }, { token: "t" }), /certificate-authority-data is not base64 of a PEM block/],
    ["a certificate without a key", kubeconfig({}, { "client-certificate": "/c" }), /has a client certificate but no key/],
    ["basic auth and a token", kubeconfig({}, { token: "t", username: "a", password: "b" }), /sets both username\/password and a token or exec plugin/],
    ["an exec plugin of an old apiVersion", kubeconfig({}, { exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" } }), /apiVersion "client.authentication.k8s.io\/v1alpha1" is not supported/],
    ["an exec plugin without a command", kubeconfig({}, { exec: { apiVersion: "client.authentication.k8s.io/v1" } }), /exec has no command/],
    ["an interactive exec plugin", kubeconfig({}, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x", interactiveMode: "Always" } }), /interactiveMode is Always, but baremetal-lb runs without a terminal/],
    ["YAML that does not parse", "clusters: [", /kubeconfig \/home\/me\/.kube\/config is not valid YAML/],
    ["a YAML list", "- a\n- b\n", /is not a kubeconfig: expected a mapping/],
  ];
  for (const [name, text, message] of cases) it(name, () => expect(() => select(text)).toThrow(message));
});

describe("several kubeconfig files merge as in kubectl", () => {
  it("takes current-context from the first file that sets it and each name from the first file that defines it", () => {
    const first = stringify({ "current-context": "b", users: [{ name: "u", user: { token: "first" } }] });
    const second = stringify({
      "current-context": "a",
      clusters: [{ name: "c", cluster: { server: "https://second", "certificate-authority": "ca.crt" } }],
      users: [{ name: "u", user: { token: "second" } }],
      contexts: [{ name: "b", context: { cluster: "c", user: "u" } }],
    });
    const sel = selectCurrentContext(
      [
        { path: "/one/config", text: first },
        { path: "/two/config", text: second },
      ],
      "/one/config:/two/config",
    );
    expect(sel).toMatchObject({ source: "kubeconfig /one/config:/two/config", context: "b", cluster: { server: "https://second", caFile: "/two/ca.crt" }, user: { token: "first" } });
  });
});
