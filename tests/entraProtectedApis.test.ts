// The EntraProtectedApis component built alone under the mock engine, as another program (TypeScript, or YAML and
// Python through the component package) would use it: its own validation, its resources and outputs. What a mock
// cannot prove: that the engine hands a YAML program's values to the component unchanged (the provider's construct).
import { describe, expect, it } from "vitest";
import { evaluate, evaluateComponent, guideApi, guideClient, guideConfig } from "./support/evaluate";
import type { MockEvaluation, ProgramError } from "../tools/preview/mockEngine";

const component = (args: Record<string, unknown>, invokeResults?: Record<string, Record<string, unknown>>) =>
  evaluateComponent(args, { invokeResults });

async function refusal(args: Record<string, unknown>, invokeResults?: Record<string, Record<string, unknown>>) {
  const failure = await component(args, invokeResults).then(
    () => undefined,
    (error: unknown) => error as ProgramError,
  );
  if (failure?.name !== "ProgramError") throw new Error("expected the arguments to be refused");
  return failure;
}

describe("EntraProtectedApis used as a component", () => {
  it("refuses bad arguments before registering anything, naming the argument as the component's", async () => {
    const failure = await refusal(guideConfig({ apis: [guideApi({ path: "/orders", tokenVersion: 3 })] }));
    expect(failure.message).toBe(
      [
        'Invalid arguments for EntraProtectedApis "platform":',
        "  - apis[0] (orders).path: \"/orders\" is not allowed; use a URL path of 1–400 characters without a leading or trailing slash, of letters, digits, '.', '_', '~', '-' and '/'",
        "  - apis[0] (orders).tokenVersion: 3 is not allowed; use 1 or 2 (the API app's requestedAccessTokenVersion)",
      ].join("\n"),
    );
    expect(failure.resources).toEqual([]);
  });

  it("gives the stack config's cross-key checks and suggestions, with the component's keys", async () => {
    const failure = await refusal(guideConfig({ apis: [guideApi({ tokenVerison: 2 })] }));
    expect(failure.message).toContain('  - apis[0] (orders).tokenVerison: unknown key — did you mean "tokenVersion"?');
    const crossKey = await refusal(guideConfig({ clients: [guideClient({ apis: ["inventory"] })] }));
    expect(crossKey.message).toContain(
      '  - clients[0] (reporting).apis[0]: "inventory" is not an API in apis (orders).',
    );
    expect(crossKey.message).not.toContain("apim-entra-auth:");
    expect(crossKey.resources).toEqual([]);
  });

  it("registers what the program registers for the same catalogue, under the component, with the same outputs", async () => {
    const alone = await component(guideConfig());
    const program = await evaluate(guideConfig());
    const urns = (stack: MockEvaluation) => stack.resources.map((resource) => resource.urn).sort();
    expect(urns(alone)).toEqual(
      urns(program).map((urn) => urn.replace("EntraProtectedApis::apim-entra-auth", "EntraProtectedApis::platform")),
    );
    const orders = (alone.outputs.apis as Record<string, Record<string, unknown>>).orders;
    expect(orders?.identifierUri).toBe("api://mock-orders-app-client-id");
    expect(orders?.appRole).toBe("access_as_app");
    expect(alone.outputs.apis).toEqual(program.outputs.apis);
    expect(alone.outputs.clients).toEqual(program.outputs.clients);
    // Only the secret is a secret: the rest of a client's outputs stay readable.
    expect(alone.secretOutputPaths).toEqual(["clients.reporting.clientSecret"]);
  });
});
