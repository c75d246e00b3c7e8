/**
 * Splits a byte stream into lines, for newline-delimited JSON (a watch response). Chunks may end in
 * the middle of a line or of a multi-byte UTF-8 character: bytes are kept until their line's newline
 * arrives and only whole lines are decoded (a newline byte never occurs inside a UTF-8 sequence).
 *
 * @example
 * const lines = new LineSplitter();
 * res.on("data", (chunk) => lines.push(chunk).forEach((line) => handle(JSON.parse(line))));
 * res.on("end", () => lines.end().forEach((line) => handle(JSON.parse(line))));
 */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /**
   * Takes the next chunk and returns the lines it completes, without their "\n" (or "\r\n"); blank
   * lines are skipped.
   *
   * @example
   * const lines = new LineSplitter();
   * lines.push(Buffer.from('{"a":1}\n{"b"')); // ['{"a":1}']
   * lines.push(Buffer.from(":2}\n"));          // ['{"b":2}']
   */
  push(chunk: Uint8Array): string[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      let line: Buffer = buf.subarray(start, nl);
      if (this.#pending.length > 0) {
        line = Buffer.concat([...this.#pending, line], this.#pendingBytes + line.length);
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      const text = decode(line);
      if (text !== "") out.push(text);
      start = nl + 1;
    }
    if (start < buf.length) {
      // Copy: the caller's buffer may be reused, and a small tail must not pin a large chunk.
      const rest = Buffer.from(buf.subarray(start));
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
    return out;
  }

  /**
   * Ends the stream: the last line when it had no newline, else nothing.
   *
   * @example
   * lines.push(Buffer.from('{"a":1}')); lines.end(); // ['{"a":1}']
   */
  end(): string[] {
    const rest = decode(Buffer.concat(this.#pending, this.#pendingBytes));
    this.#pending = [];
    this.#pendingBytes = 0;
    return rest === "" ? [] : [rest];
  }

  /** Bytes held back waiting for a newline. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }
}

/** The line as text without surrounding whitespace ("\r" included). */
function decode(line: Buffer): string {
  return line.toString("utf8").trim();
}
