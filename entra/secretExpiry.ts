import { daysBetween } from "../config/clock";

/**
 * A warning when a client's newest secret ends within `warnDays` of `today` (`YYYY-MM-DD`), so a `pulumi preview`
 * says so before the config check refuses the expired secret. Only a log line: the clock never reaches an input,
 * so plans stay the same from day to day.
 */
export function secretExpiryWarning(client: string, endDate: string, today: string, warnDays = 30): string | undefined {
  const daysLeft = daysBetween(today, endDate.slice(0, 10));
  if (daysLeft > warnDays) return undefined;
  return `The newest secret of client "${client}" expires on ${endDate.slice(0, 10)}, in ${daysLeft} days; rotate: add an entry with today's date (${today}) to clients[].secrets for "${client}", move its consumers to the new clientSecret, then remove the old entry. After that date the config is refused.`;
}
