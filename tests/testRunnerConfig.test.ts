// `npm test` prints no warning about a dependency's source maps: Vite transforms the dependencies vitest inlines
// (vitest.config.mts, server.deps.inline) under the project's own config, and its logger is asked what it said.
// What it cannot prove: a warning Vite prints outside a transform.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { createViteServer } from "vitest/node";

const projectDir = path.resolve(__dirname, "..");
type Logger = NonNullable<NonNullable<Parameters<typeof createViteServer>[0]>["customLogger"]>;

/** Every JavaScript file a package publishes. */
const javaScriptOf = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.[cm]?js$/.test(file))
    .map((file) => path.join(dir, file));

describe("the test runner's Vite config", () => {
  // @actions/workflow-parser ships maps to sources it does not publish: each of its files used to warn.
  it("transforms every inlined dependency without a warning", async () => {
    const said: string[] = [];
    const logger: Logger = {
      info: () => undefined,
      warn: (message) => said.push(message),
      warnOnce: (message) => said.push(message),
      error: (message) => said.push(message),
      clearScreen: () => undefined,
      hasErrorLogged: () => false,
      hasWarned: false,
    };
    const server = await createViteServer({
      configFile: path.join(projectDir, "vitest.config.mts"),
      customLogger: logger,
      appType: "custom",
      server: { middlewareMode: true, hmr: false, watch: null },
    });
    let files: string[];
    try {
      const { test } = server.config as { test?: { server?: { deps?: { inline?: string[] } } } };
      const inline = test?.server?.deps?.inline ?? [];
      expect(inline).toContain("@actions/workflow-parser");
      files = inline.flatMap((name) => javaScriptOf(path.join(projectDir, "node_modules", name)));
      for (const file of files) expect(await server.environments.ssr.transformRequest(file)).not.toBeNull();
    } finally {
      await server.close();
    }
    expect(files.length).toBeGreaterThan(10);
    expect(said).toEqual([]);
  });
});
