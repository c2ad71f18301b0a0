/**
 * A value that can be taken once: the holder keeps no reference after, so a secret (a password,
 * a private key) lives only as long as whoever took it needs it. A second take throws.
 */
export function takeOnce<T>(value: T, onSecondTake: () => Error): () => T {
  let held: { value: T } | undefined = { value };
  return () => {
    const taken = held;
    held = undefined;
    if (taken === undefined) throw onSecondTake();
    return taken.value;
  };
}
