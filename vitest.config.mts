import { readFile } from "node:fs/promises";
import { configDefaults, defineConfig, type Plugin } from "vitest/config";

/**
 * Loads inlined dependencies without their source maps. @actions/workflow-parser publishes `dist/*.js.map` whose
 * sources (`src/*.ts`) it does not publish, so Vite warned "Sourcemap for … points to missing source files" once per
 * file it transformed. Without the map a stack trace names the dependency's published JavaScript, which is what runs.
 */
const dependenciesWithoutSourceMaps: Plugin = {
  name: "dependencies-without-source-maps",
  enforce: "pre",
  async load(id) {
    const file = id.split("?")[0] ?? id;
    if (!file.includes("/node_modules/") || !/\.[cm]?js$/.test(file)) return null;
    const code = await readFile(file, "utf8");
    return { code: code.replace(/^\/\/# sourceMappingURL=.*$/gm, ""), map: null };
  },
};

export default defineConfig({
  plugins: [dependenciesWithoutSourceMaps],
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
