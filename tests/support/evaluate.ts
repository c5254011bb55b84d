import type { ComponentResourceOptions } from "@pulumi/pulumi";
import { vi } from "vitest";
import type { EntraProtectedApisArgs } from "../../components/entraProtectedApis";
import type { MockEvaluation, MockedResource, ProgramError } from "../../tools/preview/mockEngine";

/** Evaluates index.ts afresh under the mock engine with the given config (keys without the project prefix). */
export async function evaluate(
  config: Record<string, unknown>,
  stack = "test",
  invokeResults?: Record<string, Record<string, unknown>>,
  secretKeys?: string[],
): Promise<MockEvaluation> {
  vi.resetModules();
  const { evaluateProgram } = await import("../../tools/preview/mockEngine.js");
  const { importedStateOf } = await import("../../tools/preview/importedState.js");
  return evaluateProgram({
    stack,
    config,
    secretKeys,
    invokeResults,
    importedState: importedStateOf(config),
    importProgram: () => import("../../index.js"),
  });
}

/**
 * Evaluates a program that only declares `new EntraProtectedApis("platform", args, opts)`, as another program
 * (TypeScript, or YAML and Python through the component package) would use it; its outputs are the component's.
 */
export async function evaluateComponent(
  args: Record<string, unknown>,
  options: { opts?: ComponentResourceOptions; invokeResults?: Record<string, Record<string, unknown>> } = {},
): Promise<MockEvaluation> {
  vi.resetModules();
  const { evaluateProgram } = await import("../../tools/preview/mockEngine.js");
  return evaluateProgram({
    stack: "test",
    config: {},
    invokeResults: options.invokeResults,
    importProgram: async () => {
      const { EntraProtectedApis } = await import("../../components/entraProtectedApis.js");
      return () => {
        const platform = new EntraProtectedApis("platform", args as unknown as EntraProtectedApisArgs, options.opts);
        return { gatewayUrl: platform.gatewayUrl, clients: platform.clients, apis: platform.apis };
      };
    },
  });
}

export const ofType = (evaluation: MockEvaluation, type: string): MockedResource[] =>
  evaluation.resources.filter((resource) => resource.type === type);

/** The single resource of a type and name; fails the test when there is not exactly one. */
export function only(evaluation: MockEvaluation, type: string, name: string): MockedResource {
  const matches = evaluation.resources.filter((resource) => resource.type === type && resource.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
  return matches[0] as MockedResource;
}

/** The guide's API, My-APIM-API, with the given keys changed. */
export function guideApi(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "orders",
    displayName: "My-APIM-API",
    path: "orders",
    backendUrl: "https://orders.test.example.com",
    ...changes,
  };
}

/** The guide's client, My-Client-App, granted the guide's API, with the given keys changed. */
export function guideClient(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "reporting",
    displayName: "My-Client-App",
    credential: "secret",
    secretRotatedOn: "2026-11-23",
    secretLifetimeDays: 180,
    apis: ["orders"],
    ...changes,
  };
}

/** The guide's pair: one API (My-APIM-API) and one client (My-Client-App) granted it. */
export function guideConfig(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenantId: "11111111-2222-3333-4444-555555555555",
    apim: { resourceGroupName: "rg-apim-test", serviceName: "apim-test" },
    apis: [guideApi()],
    clients: [guideClient()],
    ...changes,
  };
}

/**
 * Evaluates a config that must be refused and returns the refusal; fails the test when the program ran. The
 * module registry is reset per evaluation, so the class is compared by name.
 */
export async function refusalOf(config: Record<string, unknown>, stack = "test"): Promise<ProgramError> {
  const failure = await evaluate(config, stack).then(
    () => undefined,
    (error: unknown) => error,
  );
  if ((failure as Error | undefined)?.name !== "ProgramError") throw new Error("expected the config to be refused");
  return failure as ProgramError;
}
