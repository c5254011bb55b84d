// What npm run bench's scale rows deploy and how they read the engine's settings. The deployment itself is timed
// only by `npm run bench` (never here): this proves the synthetic catalogue is one the program accepts, so a bench run
// cannot fail on config after minutes, and that the settings it reads are refused when malformed.
import { describe, expect, it } from "vitest";
import { validateCatalogue } from "../config/validate";
import { defaultParallelism, parseSizes, parseVariants, syntheticCatalogue } from "../bench/scale";

describe("the synthetic catalogue", () => {
  it("is valid by the program's own rules at the issue's size, each client granted one API in turn", () => {
    const catalogue = validateCatalogue(
      { ...syntheticCatalogue({ apis: 20, clients: 100 }), authorityHost: "https://127.0.0.1:8443" },
      "synthetic20x100",
      "2026-11-23",
    );
    expect(catalogue.apis.map((api) => api.name)).toEqual(Array.from({ length: 20 }, (_, i) => `api${i}`));
    expect(catalogue.clients).toHaveLength(100);
    expect(catalogue.clients[0]?.apis).toEqual(["api0"]);
    expect(catalogue.clients[21]?.apis).toEqual(["api1"]);
    expect(catalogue.clients.every((client) => client.credential === "secret")).toBe(true);
  });
});

describe("the bench's settings", () => {
  it("reads sizes as <APIs>x<clients> and refuses another form, naming the variable", () => {
    expect(parseSizes("BENCH_SCALE", "2x10,20x100")).toEqual([
      { apis: 2, clients: 10 },
      { apis: 20, clients: 100 },
    ]);
    expect(parseSizes("BENCH_SCALE", "")).toEqual([]);
    expect(() => parseSizes("BENCH_SCALE", "20*100")).toThrow(
      'BENCH_SCALE: "20*100" is not <APIs>x<clients> (whole numbers from 1), e.g. 20x100',
    );
    expect(() => parseSizes("BENCH_SCALE", "0x10")).toThrow('BENCH_SCALE: "0x10" is not <APIs>x<clients>');
  });

  it("reads the engine variants and refuses an unknown one", () => {
    expect(parseVariants("BENCH_SCALE_VARIANTS", "default,unbounded")).toEqual(["default", "unbounded"]);
    expect(() => parseVariants("BENCH_SCALE_VARIANTS", "fast")).toThrow(
      'BENCH_SCALE_VARIANTS: "fast" is not one of default, unbounded, nocheckpoints',
    );
  });

  it("takes the engine's parallelism as the CLI does: PULUMI_PARALLEL when positive, else 4 × the CPUs", () => {
    expect(defaultParallelism({}, 2)).toBe(8);
    expect(defaultParallelism({ PULUMI_PARALLEL: "0" }, 2)).toBe(8);
    expect(defaultParallelism({ PULUMI_PARALLEL: "32" }, 2)).toBe(32);
  });
});
