// Work done once per key for the life of its caller (a rehearsal's stand-ins pull or show one chart
// for many releases), where a failure is not kept: the next caller of that key tries again (a
// chart pushed to the mirror meanwhile is found).

/** Returns `(key, make)`: the promise `make` gave for `key`, made only if none is pending or done. */
export function onceEach<T>(): (key: string, make: () => Promise<T>) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (key, make) => {
    if (!made.has(key)) {
      const attempt = make();
      attempt.catch(() => made.delete(key));
      made.set(key, attempt);
    }
    return made.get(key)!;
  };
}
