import { describe, expect, it } from "vitest";
import { secretEndDate } from "../components/clientRegistration";
import { secretExpiryWarning } from "../entra/secretExpiry";

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
  const rotate = (today: string) =>
    `rotate: add an entry with today's date (${today}) to clients[].secrets for "reporting", move its consumers to the new clientSecret, then remove the old entry. After that date the config is refused.`;
  it.each([
    ["2027-04-21", undefined],
    [
      "2027-04-22",
      `The newest secret of client "reporting" expires on 2027-05-22, in 30 days; ${rotate("2027-04-22")}`,
    ],
    ["2027-05-21", `The newest secret of client "reporting" expires on 2027-05-22, in 1 days; ${rotate("2027-05-21")}`],
  ])("on %s: %s", (today, expected) => {
    expect(secretExpiryWarning("reporting", end, today)).toBe(expected);
  });
});
