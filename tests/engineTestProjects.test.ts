// The engine tests' project folders (tests/engine/support/projects.ts), checked without the CLI: a stack file written
// from a config object reads back as the same config under YAML 1.1, as the Pulumi CLI reads it. What this cannot
// prove is the CLI's reading itself; the engine tests that deploy such a stack file do.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { committedStackConfig, removeTemporaryProjects, temporaryDir, writeStackFile } from "./engine/support/projects";

afterAll(removeTemporaryProjects);

describe("writeStackFile", () => {
  it("quotes what YAML 1.1 would read as another type: the dev stack's date stays a string", () => {
    const dir = temporaryDir("stack-file-");
    const config = committedStackConfig("dev");
    writeStackFile(dir, "dev", config);
    const read = parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), { version: "1.1" }) as {
      config: Record<string, unknown>;
    };
    expect(read.config["apim-entra-auth:clients"]).toEqual(config.clients);
    expect(JSON.stringify(read.config)).toContain('"secretRotatedOn":"2026-11-23"');
  });
});
