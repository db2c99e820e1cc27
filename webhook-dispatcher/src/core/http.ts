/** A timestamp of the contract (RFC 3339 UTC with milliseconds), or null. */
export const iso = (date: Date | string | null): string | null =>
  date === null ? null : new Date(date).toISOString();
