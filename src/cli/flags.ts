/**
 * Commander argument parsers the commands share. Each throws commander's
 * InvalidArgumentError, which it prints as
 * `error: option '--x <n>' argument 'y' is invalid. <reason>`.
 */
import { InvalidArgumentError } from 'commander';

/** A number for which `check` holds; the message says what was expected (`must be <what>`). */
export function numberFlag(check: (n: number) => boolean, what: string): (value: string) => number {
  return (value) => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`must be ${what}`);
    return n;
  };
}

export const positiveNumber = numberFlag((n) => n > 0, 'a positive number');
export const nonNegativeNumber = numberFlag((n) => n >= 0, 'a number ≥ 0');
export const positiveInteger = numberFlag((n) => Number.isInteger(n) && n > 0, 'a positive integer');
export const nonNegativeInteger = numberFlag((n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
/** A port to listen on; 0 lets the system pick one. */
export const listenPort = numberFlag((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0-65535)');
