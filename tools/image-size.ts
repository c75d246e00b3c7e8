/**
 * The image's size split into its base (node:24-slim or the stand-in) and the project's own layers, from
 * `podman history --format json` of both images. History lists the newest layer first; the image's oldest entries
 * are the base's. Pure.
 *
 * @example
 * const split = splitImageSize(JSON.parse(imageHistoryJson), JSON.parse(baseHistoryJson));
 * formatMb(split.own.bytes); // "86.6 MB"
 */

/** One entry of `podman history --format json` (the fields used). */
export interface HistoryEntry {
  size: number;
  CreatedBy: string;
}

export interface LayerSize {
  bytes: number;
  /** The Dockerfile instruction, shortened: "COPY dir:… in node_modules/" → "COPY node_modules/". */
  instruction: string;
}

export interface ImageSize {
  base: { bytes: number; layers: number };
  own: { bytes: number; layers: LayerSize[] };
  total: number;
}

/** "COPY dir:515046… in node_modules/ " → "COPY node_modules/"; "/bin/sh -c #(nop) USER 65532" → "USER 65532". */
export function shortInstruction(createdBy: string): string {
  const text = createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, (_m, nop: string | undefined) => (nop ? "" : "RUN ")).trim();
  const copy = /^(COPY|ADD) (?:dir|file):[0-9a-f]+ in (.+)$/.exec(text);
  if (copy) return `${copy[1]} ${copy[2].trim()}`;
  return text.length > 70 ? `${text.slice(0, 69)}…` : text;
}

/** Splits the image's history at the base's; throws when the image does not end with the base's layers. */
export function splitImageSize(image: HistoryEntry[], base: HistoryEntry[]): ImageSize {
  const ownCount = image.length - base.length;
  const tail = image.slice(ownCount);
  if (ownCount < 0 || tail.some((e, i) => e.CreatedBy !== base[i].CreatedBy || e.size !== base[i].size)) {
    throw new Error("the image's oldest layers are not the base image's: was it built on another node:24-slim? Rebuild it with npm run image");
  }
  const sum = (entries: HistoryEntry[]) => entries.reduce((n, e) => n + e.size, 0);
  const own = image.slice(0, ownCount).reverse();
  return {
    base: { bytes: sum(base), layers: base.filter((e) => e.size > 0).length },
    own: { bytes: sum(own), layers: own.filter((e) => e.size > 0).map((e) => ({ bytes: e.size, instruction: shortInstruction(e.CreatedBy) })) },
    total: sum(image),
  };
}

/** Bytes as podman prints them: "85.7 MB" (SI, one decimal), "3.6 kB". */
export function formatMb(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
