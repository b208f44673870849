// The API server judges the objects of each real-shaped bump (test/fixtures/crd-pairs) in a
// throwaway control plane: accepted under the CRD before, and under the CRD after only when the
// pair says so. CEL rules, patterns and bounds are caught with no rule written for them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { checkObjects } from '../../tasks/lib/crds/object-check.ts';
import { withToolsOnPath } from '../../tasks/lib/tools/tool-identity.ts';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';

withToolsOnPath();
const dir = path.join(import.meta.dirname, '../fixtures/crd-pairs');

describe('object check on real-shaped CRD bumps', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(file, async () => {
      const pair = parseValue<{ rejected: string[]; before: Crd; after: Crd; objects: KubernetesObject[] }>(readFileSync(path.join(dir, file), 'utf8'));
      const candidates = pair.objects.map((object) => ({ origin: file, object }));
      const before = await checkObjects([pair.before], candidates, 60_000);
      expect(before.rejected).toEqual([]);
      expect(before.checked).toBe(pair.objects.length);
      const after = await checkObjects([pair.after], candidates, 60_000);
      expect(after.rejected.map((r) => r.object.split('/').at(-1)!.split(' ').at(-1))).toEqual(pair.rejected);
      for (const rejection of after.rejected) expect(rejection.message).toMatch(/is invalid|Invalid value|Duplicate value|should match|must be less than/);
    });
  }
});
