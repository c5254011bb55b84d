// The release a user adds is the one the changelog describes and the docs name: package.json's version (which the
// package schema and every generated SDK carry) is the changelog's newest entry, and docs/reuse.md's
// `pulumi package add …@v<version>` names its tag. What this cannot prove: that the tag exists (tags are made when a
// release is cut); tests/engine/packageAdd.test.ts adds the package from a clone at such a tag.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { projectDir } from "../tools/plan";

const read = (file: string) => fs.readFileSync(path.join(projectDir, file), "utf8");
const { version } = JSON.parse(read("package.json")) as { version: string };

describe("the release", () => {
  it("is the changelog's newest version, in Keep a Changelog's form, each with a date and a compare link", () => {
    const changelog = read("CHANGELOG.md");
    const releases = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1]);
    expect(releases[0]).toBe(version);
    expect(changelog).not.toMatch(/^## (?!\[)/m);
    for (const release of releases) expect(changelog).toMatch(new RegExp(`^\\[${release}\\]: https://`, "m"));
  });

  it("is the tag docs/reuse.md's pulumi package add names", () => {
    const added = [...read("docs/reuse.md").matchAll(/pulumi package add https:\/\/github\.com\/\S+@(\S+)/g)];
    expect(added.map((m) => m[1])).toEqual([`v${version}`]);
  });
});
