import { InvalidArgumentError } from "commander";

/** `key=value` flags into an object. */
export function keyValues(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new InvalidArgumentError(`"${pair}" is not key=value.`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** A positive whole number flag. */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("Not a positive whole number.");
  return n;
}

/** A time flag: ISO 8601, or a duration before now such as `2h`, `30m`, `7d`. */
export function time(value: string): string {
  const ago = /^(\d+)([smhd])$/.exec(value);
  if (ago) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[ago[2] as "s"];
    return new Date(Date.now() - Number(ago[1]) * unit * 1000).toISOString();
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new InvalidArgumentError("Not a time: use ISO 8601 or a duration like 2h.");
  return new Date(parsed).toISOString();
}
