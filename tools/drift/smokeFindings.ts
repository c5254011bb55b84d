import type { SmokeRow } from "../smoke";

/**
 * What a failed token request means when the preview cannot see its cause; Entra ID's codes (Microsoft Learn, "Microsoft
 * Entra authentication and authorization error codes").
 */
const causes: [RegExp, string][] = [
  [
    /AADSTS7000222\b/,
    "the client's secret has expired, and pulumi up cannot renew it (the program refuses the expired entry, Entra ID a password whose end date has passed): rotate it (add an entry with today's date to the client's clients[].secrets, pulumi up, hand the client the new clientSecret, then remove the old entry)",
  ],
  [
    /AADSTS7000215\b/,
    "the registration no longer holds the secret the stack handed out (deleted in the portal?): rotate it as for an expired secret",
  ],
  [
    /AADSTS501051\b/,
    "the client is not granted the API's app role (its admin consent was removed): pulumi up --refresh grants it again",
  ],
];

/** Each failed smoke check as a `!` line, and the cause where a token request names one. */
export function smokeFindings(rows: SmokeRow[]): string[] {
  return rows
    .filter((row) => row.result === "FAIL")
    .flatMap((row) => {
      const cause = causes.find(([code]) => code.test(row.actual));
      return [
        `! smoke: ${row.check}: expected ${row.expected}, got ${row.actual}`,
        ...(cause ? [`  fix: ${cause[1]}`] : []),
      ];
    });
}
