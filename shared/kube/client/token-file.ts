/**
 * A bearer token kept in a file that something else rotates (a projected ServiceAccount token, a
 * kubeconfig `tokenFile`). As client-go does, the file is read again at most once a minute, and at
 * once when the server answered 401; when a later read fails the last good token stays in use.
 */
import { readFileSync } from "node:fs";

/** Options of {@link TokenFile}. */
export interface TokenFileOptions {
  /** Re-read after this long (default 60 s). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** Used when the file cannot be read at all (a kubeconfig's `token` next to its `tokenFile`). */
  readonly fallback?: string;
  /** Names the file's owner in errors, e.g. "in-cluster config". */
  readonly where?: string;
}

/**
 * @example
 * const file = new TokenFile("/var/run/secrets/kubernetes.io/serviceaccount/token");
 * headers.authorization = `Bearer ${file.token()}`;   // cached for up to 60 s
 * file.token(true);                                    // after a 401: read now
 */
export class TokenFile {
  readonly path: string;
  readonly #opts: TokenFileOptions;
  #token: string | undefined;
  #readAt = 0;

  /** Reads the file once now, so a missing file fails at startup with a message naming it. */
  constructor(path: string, opts: TokenFileOptions = {}) {
    this.path = path;
    this.#opts = opts;
    this.token(true);
  }

  /** The current token; `refresh` reads the file even when the cached token is recent. */
  token(refresh = false): string {
    const now = (this.#opts.now ?? Date.now)();
    if (!refresh && this.#token !== undefined && now - this.#readAt < (this.#opts.maxAgeMs ?? 60_000)) return this.#token;
    try {
      const text = readFileSync(this.path, "utf8").trim();
      if (text === "") throw new Error("the file is empty");
      this.#token = text;
    } catch (e) {
      if (this.#token === undefined && this.#opts.fallback === undefined) {
        const where = this.#opts.where ? `${this.#opts.where}: ` : "";
        throw new Error(`${where}cannot read the bearer token file ${this.path}: ${(e as Error).message}`);
      }
    }
    this.#readAt = now;
    return this.#token ?? (this.#opts.fallback as string);
  }
}
