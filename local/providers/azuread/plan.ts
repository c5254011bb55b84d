import { differs, type PropertyMap, unknownValue } from "./properties";
import type { ResourceType } from "./resourceType";

/**
 * What pulumi-terraform-bridge answers a preview's Create (pkg/tfbridge/provider.go: with `req.GetPreview()` it takes
 * the Terraform diff's proposed state instead of applying it): the inputs, and unknown wherever Graph decides, namely
 * the computed-only outputs and the Optional+Computed inputs the program leaves out.
 */
export function plannedCreate(type: ResourceType, inputs: PropertyMap): PropertyMap {
  const planned: PropertyMap = { ...inputs };
  for (const [name, spec] of Object.entries(type.properties)) {
    if (spec.computed && planned[name] === undefined) planned[name] = unknownValue;
  }
  for (const name of type.computedOutputs ?? []) planned[name] = unknownValue;
  return planned;
}

/**
 * The bridge's preview Update: the old state with the new inputs applied. An input left out keeps its state value when
 * it is Optional+Computed or when that value is already the type's zero (Terraform sees no change, so the proposed state
 * keeps it), and is dropped otherwise; computed-only outputs keep their values, because none of these
 * resources' Terraform schemas recomputes one on an in-place update (no CustomizeDiff `SetNewComputed` in
 * terraform-provider-azuread for them; the `azuread_application` one is not a type this provider serves).
 */
export function plannedUpdate(type: ResourceType, olds: PropertyMap, news: PropertyMap): PropertyMap {
  const planned: PropertyMap = { ...olds, ...news };
  for (const [name, spec] of Object.entries(type.properties)) {
    if (news[name] === undefined && !spec.computed && differs(spec, olds[name], undefined)) delete planned[name];
  }
  return planned;
}
