/**
 * A predicate that is true the first time it sees a value. Listener ports and
 * virtual-host domains must be unique; with inputs walked in sorted order, the
 * first claimant keeps them, deterministically.
 */
export function firstClaim<T>(initial: Iterable<T> = []): (value: T) => boolean {
  const taken = new Set<T>(initial);
  return (value) => {
    if (taken.has(value)) return false;
    taken.add(value);
    return true;
  };
}
