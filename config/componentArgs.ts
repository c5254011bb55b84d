import { RunError } from "@pulumi/pulumi";
import { catalogueSchema } from "./schema";
import { assertServiceTier, ConfigError, projectName, type Catalogue, validateCatalogue } from "./validate";

/** Thrown by the EntraProtectedApis component before it registers anything; `problems` holds one line per bad key. */
export class ComponentArgsError extends RunError {
  constructor(
    readonly component: string,
    readonly problems: string[],
  ) {
    super(`Invalid arguments for EntraProtectedApis "${component}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ComponentArgsError";
  }
}

// `apim-entra-auth:apis[0] (orders).path` in a stack file is `apis[0] (orders).path` among a component's arguments.
const stackKey = new RegExp(`${projectName}:(?=(?:${Object.keys(catalogueSchema.shape).join("|")})\\b)`, "g");

/** Runs a check written for stack config and names the keys it reports as the component's arguments. */
function asComponentArgs<T>(component: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ComponentArgsError(
      component,
      error.problems.map((problem) => problem.replace(stackKey, "")),
    );
  }
}

/**
 * Validates a component's arguments with the stack config's schema, checks and messages (as of `today`, for secret
 * dates), so a program in any language gets the same errors, each naming the argument (`apis[0] (orders).path`).
 */
export function validateComponentArgs(args: object, component: string, stack: string, today: string): Catalogue {
  return asComponentArgs(component, () => validateCatalogue({ ...args }, stack, today));
}

/** Refuses what the existing service's tier cannot do (portal, client limits), naming the component's arguments. */
export function assertComponentServiceTier(config: Catalogue, component: string, skuName: string): void {
  asComponentArgs(component, () => assertServiceTier(config, skuName));
}
