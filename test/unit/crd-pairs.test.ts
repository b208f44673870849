// The rules on real-shaped CRD bumps (test/fixtures/crd-pairs): each pair reports exactly the
// warn/error rules it names, and nothing for the noise cases (status, allOf enum, widening, defaults).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Crd } from '../../tasks/lib/model/crd-bundle.ts';
import { crdChanges } from '../../tasks/lib/crds/crd-compat.ts';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';

const dir = path.join(import.meta.dirname, '../fixtures/crd-pairs');
const pairs = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('rules on real-shaped CRD bumps', () => {
  it('has the seven cases', () => expect(pairs).toHaveLength(7));
  for (const file of pairs) {
    it(file, () => {
      const pair = parseValue<{ rules: string[]; before: Crd; after: Crd }>(readFileSync(path.join(dir, file), 'utf8'));
      const reported = crdChanges(pair.before, pair.after).filter((c) => c.severity !== 'info');
      expect(reported.map((c) => c.rule)).toEqual(pair.rules);
    });
  }
});
