// The component package compiles where Python, Go and YAML users run it. `pulumi package add`, gen-sdk and every
// program that uses the package start provider.ts through @pulumi/pulumi's cmd/run-plugin, which type-checks it with
// ts-node and the compiler options of the CLI's working folder: a program folder without a tsconfig.json (every
// non-TypeScript project) gets run-plugin's defaults, with strict off. There `pulumi.output(undefined)` is
// Output<any>, which TypeScript refuses as an Output<string | undefined> (TS2322), and the package failed to start.
// The engine tier proves the same with the real CLI (tests/engine/sdks.test.ts); this catches it in npm test.
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectDir } from "../tools/plan";

describe("the component package", () => {
  it("type-checks with the compiler options run-plugin uses in a folder without a tsconfig.json", () => {
    // @pulumi/pulumi cmd/run-plugin/run.js, when no tsconfig.json is in the working folder (TypeScript ≥ 4.7).
    const runPluginDefaults: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2020,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      sourceMap: true,
      // Not run-plugin's: the packages' own declaration files are not what this test is about, and are slow.
      skipLibCheck: true,
    };
    const program = ts.createProgram([path.join(projectDir, "provider.ts")], runPluginDefaults);
    const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file
        ? `${path.relative(projectDir, diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}: `
        : "";
      return `${where}TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
    });
    expect(errors).toEqual([]);
  });
});
