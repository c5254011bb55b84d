/**
 * The one place the program reads "today". Config checks that depend on the date (an expired secret, a rotation
 * date in the future, the expiry warning) take the date as a parameter; only the loader calls this. The date never
 * reaches a resource input, so plans stay the same from day to day.
 */
export const todayVariable = "APIM_ENTRA_AUTH_TODAY";

/** `YYYY-MM-DD` that names a day on the calendar: 2026-02-29 and 2026-04-31 are not dates, whatever Date.parse says. */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/** The calendar date `days` after `date` (both `YYYY-MM-DD`, UTC). */
export function addDays(date: string, days: number): string {
  const moved = new Date(`${date}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * Today's UTC date, or the date pinned by `APIM_ENTRA_AUTH_TODAY` (tests, and checks over committed stack files,
 * pin it so that nothing depends on the day they run).
 */
export function today(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): string {
  const pinned = env[todayVariable];
  if (pinned === undefined || pinned === "") return now.toISOString().slice(0, 10);
  if (!isCalendarDate(pinned)) {
    throw new Error(`${todayVariable}=${JSON.stringify(pinned)} is not a calendar date; use YYYY-MM-DD or unset it.`);
  }
  return pinned;
}
