/** RFC 3339 times as the index feed, .info files and options carry them. Pure. */

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** True for a real RFC 3339 instant: the shape, and a calendar date and time that exist (no Feb 30, no hour 24). */
export function isRfc3339(s: string): boolean {
  if (!RFC3339.test(s) || Number.isNaN(Date.parse(s))) return false;
  const day = s.slice(0, 10);
  const [hh, mm, ss] = s.slice(11, 19).split(':').map(Number);
  const sameDay = new Date(Date.parse(`${day}T00:00:00Z`)).toISOString().slice(0, 10) === day;
  return sameDay && (hh ?? 99) < 24 && (mm ?? 99) < 60 && (ss ?? 99) < 60;
}
