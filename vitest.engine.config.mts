import { defineConfig } from "vitest/config";

// npm run test:engine: the tier that runs the real Pulumi CLI (local/engine.ts builds it when it is missing).
export default defineConfig({
  test: {
    include: ["tests/engine/**/*.test.ts"],
    pool: "forks",
    // One CLI at a time: the machine's cores go to the engine, node and the providers of one deployment.
    fileParallelism: false,
    testTimeout: 300_000,
    // A first install builds the CLI with Go: minutes.
    hookTimeout: 3_600_000,
  },
});
