// Byte counts as people read them, in the binary units the options take (32MiB): the server's
// messages and pages and the upload page's script use this one formatter, so a limit reads the
// same wherever it is stated.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `1.4 MiB`, `820 KiB`, `32 MiB`, `512 B`: one decimal below 10 of a unit (none when it is .0), whole numbers above. */
export function formatBytes(bytes: number): string {
  let value = bytes, unit = 0;
  // Rounded first, so 1023.7 KiB reads as 1 MiB rather than 1024 KiB.
  const rounded = (v: number) => (v < 10 ? Math.round(v * 10) / 10 : Math.round(v));
  while (unit < UNITS.length - 1 && rounded(value) >= 1024) { value /= 1024; unit++; }
  return `${String(unit === 0 ? Math.round(value) : rounded(value))} ${UNITS[unit] ?? ''}`;
}
