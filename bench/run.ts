// npm run bench: the figures the docs quote (docs/deploying.md), measured in one run on this machine. Medians, not
// means: a garbage collection or a busy neighbour moves a mean, rarely a median.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { publicCloudAuthorityHost, tokenProfile } from "../entra/tokenProfile";
import { defaultPolicyTemplatePath, renderApiPolicy } from "../policies/renderPolicy";
import { evaluateToken } from "../tools/gateway/evaluateToken";
import { evaluateProgram } from "../tools/preview/mockEngine";
import { readTokenCheck } from "../policies/readTokenCheck";
import { readStackFileConfig } from "../tools/preview/stackFiles";
import { benchLocalUp } from "./localUp";
import { median } from "./median";
import { scaleRows } from "./scaleRows";

const projectDir = path.resolve(__dirname, "..");

async function timeEach(runs: number, action: () => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    await action();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times;
}

/** Re-evaluates index.ts in this process: drop the project's own modules from the require cache first. */
function importProgramAfresh(): Promise<unknown> {
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(projectDir) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[key];
  }
  return Promise.resolve(require("../index"));
}

function catalogue(size: number): Record<string, unknown> {
  const { config } = readStackFileConfig(projectDir, "dev");
  const apis = Array.from({ length: size }, (_, i) => ({
    name: `api${i}`,
    displayName: `API ${i}`,
    path: `api${i}`,
    backendUrl: `https://api${i}.example.com`,
  }));
  const clients = Array.from({ length: size }, (_, i) => ({
    name: `client${i}`,
    displayName: `Client ${i}`,
    secretRotatedOn: "2026-11-23",
    apis: [`api${i}`],
  }));
  return { ...config, apis, clients };
}

function printRows(heading: string, rows: [string, string][]) {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`${heading}, Node ${process.version}\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
}

async function main() {
  // BENCH_ONLY=scale: only the rows of section 5, e.g. for BENCH_SCALE=20x100, which takes minutes on its own.
  const only = process.env.BENCH_ONLY;
  if (only !== undefined && only !== "scale")
    throw new Error(`BENCH_ONLY: "${only}" is not scale (or unset: every row)`);
  if (only === "scale") return printRows("scale only", await scaleRows(process.env));
  const rows: [string, string][] = [];
  const runs = Number(process.env.BENCH_RUNS ?? 15);

  // 1. The plan's cost as the catalogue grows (mock engine, in process, after one warm-up).
  const evaluate = (size: number) => () =>
    evaluateProgram({ stack: "bench", config: catalogue(size), importProgram: importProgramAfresh });
  await evaluate(1)();
  const small = median(await timeEach(runs, evaluate(1)));
  const large = median(await timeEach(runs, evaluate(20)));
  rows.push(["evaluate program, 1 API + 1 client (ms)", small.toFixed(1)]);
  rows.push(["evaluate program, 20 APIs + 20 clients (ms)", large.toFixed(1)]);
  rows.push(["  ratio 20 : 1 (resources 20×)", (large / small).toFixed(1)]);

  // 2. Rendering a policy, and judging a token against it the way the gateway stand-in does.
  const tenantId = "11111111-2222-3333-4444-555555555555";
  const apiClientId = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  const profile = tokenProfile({
    authorityHost: publicCloudAuthorityHost,
    tenantId,
    apiClientId,
    tokenVersion: 2,
  });
  const template = fs.readFileSync(defaultPolicyTemplatePath, "utf8");
  const render = () =>
    renderApiPolicy(
      { validation: "validate-jwt", profile, tenantId, appRole: "access_as_app", clockSkewSeconds: 60 },
      template,
    );
  const batch = 100;
  const renderMs = median(await timeEach(runs, () => Array.from({ length: batch }, render))) / batch;
  rows.push(["render one policy (ms)", renderMs.toFixed(3)]);

  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256", use: "sig" };
  const now = new Date("2026-11-23T12:00:00Z");
  const token = await new SignJWT({ azp: "cccccccc-0000-0000-0000-000000000000", roles: ["access_as_app"], ver: "2.0" })
    .setProtectedHeader({ alg: "RS256", kid: "bench" })
    .setIssuer(profile.issuer)
    .setAudience(profile.audience)
    .setIssuedAt(Math.floor(now.getTime() / 1000) - 60)
    .setExpirationTime(Math.floor(now.getTime() / 1000) + 3600)
    .sign(privateKey);
  const spec = readTokenCheck(render());
  const judge = () =>
    evaluateToken({
      spec,
      authorizationHeader: `Bearer ${token}`,
      now,
      keys: {
        openIdConfigs: { [profile.metadataUrl]: { issuer: profile.issuer, jwks_uri: "x" } },
        jwks: { keys: [jwk] },
      },
    });
  const verdict = await judge();
  if (!verdict.accepted) throw new Error(`bench token rejected: ${verdict.reason}`);
  const judgeMs =
    median(
      await timeEach(runs, async () => {
        for (let i = 0; i < batch; i++) await judge();
      }),
    ) / batch;
  rows.push(["judge one token against a policy (ms)", judgeMs.toFixed(3)]);

  // 3. What ts-node's type check costs a `pulumi preview`, loading the program as Pulumi's language host does.
  // Pulumi's vendored ts-node caches compiled files, so the cost falls on the first run after an edit ("cold").
  const loader = path.join(projectDir, "tools", "preview", "loadLikePulumi.cjs");
  const processRuns = Math.max(3, Math.floor(runs / 3));
  const load = (transpileOnly: boolean, cache: boolean) => () =>
    execFileSync(process.execPath, [loader, "dev"], {
      cwd: projectDir,
      env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: String(transpileOnly), TS_NODE_CACHE: String(cache) },
      stdio: "ignore",
    });
  const coldTranspiled = median(await timeEach(processRuns, load(true, false)));
  const coldChecked = median(await timeEach(processRuns, load(false, false)));
  await load(false, true)();
  const cachedChecked = median(await timeEach(processRuns, load(false, true)));
  rows.push(["load + evaluate like pulumi, cold, transpile only (ms)", coldTranspiled.toFixed(0)]);
  rows.push(["load + evaluate like pulumi, cold, type-checked (ms)", coldChecked.toFixed(0)]);
  rows.push(["  ratio type-checked : transpile only, cold", (coldChecked / coldTranspiled).toFixed(1)]);
  rows.push(["load + evaluate like pulumi, ts-node cache warm (ms)", cachedChecked.toFixed(0)]);

  // 4. The local tenant: `npm run local -- up` of the dev stack with the CLI built, and the tenant's memory after it.
  const localRuns = Number(process.env.BENCH_LOCAL_RUNS ?? 3);
  const local = await benchLocalUp(localRuns);
  if (!local) rows.push(["npm run local -- up (not measured: run npm run local -- install first)", "-"]);
  else {
    const seconds = (values: number[]) => (median(values) / 1000).toFixed(1);
    rows.push([
      `local up of dev, tenant start to smoke, warm CLI (s, median of ${localRuns})`,
      seconds(local.map((run) => run.total)),
    ]);
    const phases = {
      start: "  the tenant starts",
      prepare: "  providers, APIM service, stack select",
      up: "  pulumi up: preview, then update",
      update: "    of which the update (pulumi's Duration)",
      smoke: "  smoke test",
    } as const;
    for (const [phase, label] of Object.entries(phases)) {
      rows.push([label, seconds(local.map((run) => run.phases[phase as keyof typeof phases]))]);
    }
    rows.push(["  slowest resources in pulumi up (first run)", (local[0]?.slowest ?? []).join("; ")]);
    rows.push(["local up again, no changes, with smoke (s)", seconds(local.map((run) => run.again))]);
    rows.push(["local tenant resident memory after up (MB)", median(local.map((run) => run.residentMb)).toFixed(0)]);
  }

  // 5. Preview and up at scale against the tenant with Azure's round trips injected, next to the critical path.
  rows.push(...(await scaleRows(process.env)));

  printRows(`median of ${runs} runs (${processRuns} for whole processes)`, rows);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
