import { describe, expect, it } from "vitest";
import { formatMb, shortInstruction, splitImageSize } from "./image-size.ts";

// `podman history --format json`, newest first, trimmed to the fields used.
const base = [
  { size: 0, CreatedBy: '/bin/sh -c #(nop) CMD ["node"]' },
  { size: 126598656, CreatedBy: "/bin/sh -c #(nop) COPY file:b415ba49 in /usr/local/bin/node " },
  { size: 170401280, CreatedBy: "/bin/sh -c #(nop) ADD file:e9227dda in /" },
];
const image = [
  { size: 0, CreatedBy: '/bin/sh -c #(nop) CMD ["controller/main.ts"]' },
  { size: 0, CreatedBy: "/bin/sh -c #(nop) USER 65532:65532" },
  { size: 385024, CreatedBy: "/bin/sh -c #(nop) COPY dir:13281387 in speaker/ " },
  { size: 85710336, CreatedBy: "/bin/sh -c #(nop) COPY dir:515046fa in node_modules/ " },
  { size: 0, CreatedBy: "/bin/sh -c #(nop) WORKDIR /app" },
  ...base,
];

describe("splitImageSize", () => {
  it("splits the image at its base's layers and lists the project's own, oldest first", () => {
    expect(splitImageSize(image, base)).toEqual({
      base: { bytes: 296999936, layers: 2 },
      own: {
        bytes: 86095360,
        layers: [
          { bytes: 85710336, instruction: "COPY node_modules/" },
          { bytes: 385024, instruction: "COPY speaker/" },
        ],
      },
      total: 383095296,
    });
  });

  it("refuses an image built on another base", () => {
    expect(() => splitImageSize(image, [{ size: 1, CreatedBy: "other" }])).toThrow("the image's oldest layers are not the base image's");
  });
});

describe("shortInstruction and formatMb", () => {
  it("shortens podman's CreatedBy to the Dockerfile instruction", () => {
    expect(shortInstruction("/bin/sh -c #(nop) USER 65532:65532")).toBe("USER 65532:65532");
    expect(shortInstruction("/bin/sh -c apt-get update")).toBe("RUN apt-get update");
  });

  it("prints sizes as podman does", () => {
    expect([formatMb(85710336), formatMb(3584), formatMb(12)]).toEqual(["85.7 MB", "3.6 kB", "12 B"]);
  });
});
