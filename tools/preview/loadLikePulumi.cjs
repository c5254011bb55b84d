// Loads index.ts the way Pulumi's nodejs language host does (@pulumi/pulumi cmd/run: its tsutils pick ts-node
// and TypeScript, tsconfig's noCheck or PULUMI_NODEJS_TRANSPILE_ONLY decide type checking), then evaluates
// the program for a stack under the mock engine and prints one JSON line: { resources, milliseconds }.
// Usage: node tools/preview/loadLikePulumi.cjs <stack>
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const stack = process.argv[2] ?? "dev";
const tsutils = require("@pulumi/pulumi/tsutils");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const tsconfig = path.join(root, "tsconfig.json");
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsconfig);
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const start = process.hrtime.bigint();
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck,
  project: tsconfig,
  skipProject: false,
  compilerOptions: {
    target: "ES2020",
    module: "nodenext",
    moduleResolution: "nodenext",
    sourceMap: "true",
    ...compilerOptions,
  },
});
const { evaluateStack } = require(path.join(root, "tools", "plan.ts"));
evaluateStack(stack, () => Promise.resolve(require(path.join(root, "index.ts")))).then(
  (evaluation) => {
    const milliseconds = Number(process.hrtime.bigint() - start) / 1e6;
    process.stdout.write(`${JSON.stringify({ resources: evaluation.resources.length, milliseconds })}\n`);
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
