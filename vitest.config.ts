import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end suites create network namespaces with fixed names per file; files run in parallel,
    // suites inside a file run in order.
    fileParallelism: true,
  },
});
