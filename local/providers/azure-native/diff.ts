import { replaceOnChanges } from "../../../tools/preview/replaceOnChanges";
import { isUnknown, type PropertyMap, sameValue } from "./values";

export interface InputDiff {
  /** The inputs that change (added, removed, or with another value, or not known yet). */
  changed: string[];
  /** The changed inputs that replace the resource: tools/preview/replaceOnChanges.ts, the project's one table. */
  replaces: string[];
}

/**
 * The old inputs against the new: an input whose new value is not known yet (preview) counts as changed, so a
 * replacing input that may change shows the replace.
 */
export function diffInputs(type: string, oldInputs: PropertyMap, newInputs: PropertyMap): InputDiff {
  const names = new Set(
    [...Object.keys(oldInputs), ...Object.keys(newInputs)].filter((name) => !name.startsWith("__")),
  );
  const changed = [...names]
    .filter((name) => isUnknown(newInputs[name]) || !sameValue(oldInputs[name] ?? null, newInputs[name] ?? null))
    .sort();
  const replacing = replaceOnChanges[type] ?? [];
  return { changed, replaces: changed.filter((name) => replacing.includes(name)) };
}
