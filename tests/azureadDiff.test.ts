import { describe, expect, it } from "vitest";
import { resourceTypes } from "../local/providers/azuread/provider";
import { replaceOnChanges } from "../tools/preview/replaceOnChanges";
import { configuredProvider, urnOf } from "./support/azureadHarness";

// The local provider replaces on exactly the inputs tools/preview/replaceOnChanges.ts lists (the plan's table, read
// from terraform-provider-azuread's ForceNew fields), so the local engine's plan and the offline plan agree.

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const azureadTokens = Object.keys(replaceOnChanges).filter((token) => token.startsWith("azuread:"));

describe("Diff and the replace-on-change table", () => {
  it("implements every azuread type the table lists, and the table lists every type it implements", () => {
    expect([...resourceTypes.keys()].sort()).toEqual(azureadTokens.sort());
  });

  it.each([...resourceTypes.keys()])(
    "%s: a change of an input replaces exactly when the table lists it",
    async (token) => {
      const h = await configuredProvider();
      const urn = urnOf(token, "x");
      for (const name of Object.keys(resourceTypes.get(token)!.properties)) {
        const diff = await h.provider.diff("id", urn, { [name]: "before" }, { [name]: unknown });
        expect(diff, name).toEqual({
          changes: true,
          replaces: replaceOnChanges[token]!.includes(name) ? [name] : [],
          deleteBeforeReplace: false,
        });
      }
    },
  );
});
