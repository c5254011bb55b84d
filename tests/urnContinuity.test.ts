// The stack a user deployed before the EntraProtectedApis component existed must keep every resource: each URN the
// old program registered (tests/fixtures/urns-before-component.json, frozen from the fixture stack) has to be the URN
// or an alias of exactly one resource of the new program. What a mock cannot prove: that the Pulumi engine then moves
// the state instead of replacing (its documented alias behaviour; the mock computes alias URNs the way the SDK does).
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { evaluate } from "./support/evaluate";

const before = JSON.parse(readFileSync("tests/fixtures/urns-before-component.json", "utf8")) as { urn: string }[];

async function evaluateFixture() {
  const file = parse(readFileSync("tests/fixtures/stacks/Pulumi.continuity.yaml", "utf8")) as {
    config: Record<string, unknown>;
  };
  const config = Object.fromEntries(
    Object.entries(file.config).map(([key, value]) => [key.replace("apim-entra-auth:", ""), value]),
  );
  return evaluate(config, "dev");
}

describe("URN continuity through the EntraProtectedApis component (frozen dev stack)", () => {
  it("keeps every URN of the old program as exactly one new resource's URN or alias", async () => {
    const stack = await evaluateFixture();
    const known = (urn: string) =>
      stack.resources.filter((resource) => resource.urn === urn || resource.aliasUrns.includes(urn));
    const unmatched = before.filter(({ urn }) => known(urn).length !== 1);
    expect(unmatched).toEqual([]);
    expect(before).toHaveLength(41);
    // Every resource moved under the component: the old URNs are kept by aliases alone, none by chance.
    const current = new Set(stack.resources.map((resource) => resource.urn));
    expect(before.filter(({ urn }) => current.has(urn))).toEqual([]);
  });

  it("accounts for every new resource but the component itself", async () => {
    const stack = await evaluateFixture();
    const old = new Set(before.map(({ urn }) => urn));
    const unaccounted = stack.resources.filter(
      (resource) => !old.has(resource.urn) && !resource.aliasUrns.some((alias) => old.has(alias)),
    );
    expect(unaccounted.map((resource) => resource.urn)).toEqual([
      "urn:pulumi:dev::apim-entra-auth::apim-entra-auth:index:EntraProtectedApis::apim-entra-auth",
    ]);
    expect(stack.resources).toHaveLength(before.length + 1);
  });

  it("keeps the password rotated into its dated name: its pre-rotation URN at the root is an alias", async () => {
    const stack = await evaluateFixture();
    const password = stack.resources.find((resource) => resource.name === "reporting-secret-2026-11-23");
    expect(password?.aliasUrns).toContain(
      "urn:pulumi:dev::apim-entra-auth::apim-entra-auth:identity:ClientRegistration$azuread:index/applicationPassword:ApplicationPassword::reporting-secret",
    );
  });
});
