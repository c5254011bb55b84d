import { describe, expect, it } from "vitest";
import { secretEndDate } from "../components/clientRegistration";
import { secretExpiryWarning } from "../lib/secretExpiry";

describe("a secret's fixed end date", () => {
  it.each([
    ["2026-11-23", 180, "2027-05-22T00:00:00Z"],
    ["2024-02-28", 1, "2024-02-29T00:00:00Z"],
    ["2026-12-31", 730, "2028-12-30T00:00:00Z"],
  ])("issued %s for %i days ends %s", (rotatedOn, days, expected) => {
    expect(secretEndDate(rotatedOn, days)).toBe(expected);
  });
});

describe("the expiry warning (a log line, never an input)", () => {
  const end = "2027-05-22T00:00:00Z";
  it.each([
    ["2027-04-01T00:00:00Z", undefined],
    [
      "2027-04-22T00:00:00Z",
      `The secret of client "reporting" expires on 2027-05-22, in 30 days; set clients[].secretRotatedOn for "reporting" to today's date to issue a new secret.`,
    ],
    [
      "2027-05-23T00:00:00Z",
      `The secret of client "reporting" expired on 2027-05-22; set clients[].secretRotatedOn for "reporting" to today's date to issue a new secret.`,
    ],
  ])("on %s: %s", (now, expected) => {
    expect(secretExpiryWarning("reporting", end, new Date(now))).toBe(expected);
  });
});
