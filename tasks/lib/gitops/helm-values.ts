// How helm-controller merges a HelmRelease's values: each valuesFrom source in order, then
// spec.values on top; maps merge key by key, anything else (lists included) is replaced.
export function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const bothObjects = [current, value].every((v) => v && typeof v === 'object' && !Array.isArray(v));
    out[key] = bothObjects ? mergeValues(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}
