const day = 24 * 60 * 60 * 1000;

/**
 * A warning when a client secret's fixed end date is past or near, so a `pulumi preview` says so before callers
 * start failing. Only a log line: the clock never reaches an input, so plans stay the same from day to day.
 */
export function secretExpiryWarning(client: string, endDate: string, now: Date, warnDays = 30): string | undefined {
  const daysLeft = Math.floor((Date.parse(endDate) - now.getTime()) / day);
  const fix = `set clients[].secretRotatedOn for "${client}" to today's date to issue a new secret`;
  if (daysLeft < 0) return `The secret of client "${client}" expired on ${endDate.slice(0, 10)}; ${fix}.`;
  if (daysLeft <= warnDays) {
    return `The secret of client "${client}" expires on ${endDate.slice(0, 10)}, in ${daysLeft} days; ${fix}.`;
  }
  return undefined;
}
