import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // The engine tier (the real Pulumi CLI) runs on its own: npm run test:engine.
    exclude: [...configDefaults.exclude, "tests/engine/**"],
    // Pulumi's mock runtime keeps global state: one file at a time per worker, files in parallel workers.
    pool: "forks",
    testTimeout: 30_000,
    // Nothing may depend on the day the suite runs: the program's one clock (config/clock.ts) reads this date.
    env: { APIM_ENTRA_AUTH_TODAY: "2026-11-23" },
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node refuses; let Vite load it.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
