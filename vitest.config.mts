import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Pulumi's mock runtime keeps global state: one file at a time per worker, files in parallel workers.
    pool: "forks",
    testTimeout: 30_000,
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node refuses; let Vite load it.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
