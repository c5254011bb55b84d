import { defineConfig } from "vitest/config";

// npm run test:engine: the tier that runs the real Pulumi CLI (local/engine.ts builds it when it is missing).
export default defineConfig({
  test: {
    include: ["tests/engine/**/*.test.ts"],
    pool: "forks",
    // One CLI at a time: the machine's cores go to the engine, node and the providers of one deployment.
    fileParallelism: false,
    // A destroy waits as the azuread provider does for each deleted object (about 20 s each, more on a busy machine).
    testTimeout: 600_000,
    // A first install builds the CLI with Go: minutes.
    hookTimeout: 3_600_000,
    // The program and the local tenant (whose clock follows this day) agree on a date that never moves.
    env: { APIM_ENTRA_AUTH_TODAY: "2026-11-23" },
    // .ci/run adds these counts to npm test's (test-results.json) for its one closing line.
    reporters: ["default", ["json", { outputFile: "test-results-engine.json" }]],
  },
});
