import { describe, expect, it } from 'vitest';
import { foreignManagers } from '../../tasks/lib/crds/crd-ownership.ts';

describe('foreignManagers', () => {
  it('names every manager but this tool’s (and its keep manager), ignoring the status subresource', () => {
    const crd = {
      metadata: {
        managedFields: [
          { manager: 'cluster-bootstrap', operation: 'Apply' },
          { manager: 'cluster-bootstrap-keep', operation: 'Apply' },
          { manager: 'kube-apiserver', operation: 'Update', subresource: 'status' },
          { manager: 'kubectl', operation: 'Apply' },
          { manager: 'helm', operation: 'Update' },
          { manager: 'kubectl', operation: 'Update' },
        ],
      },
    };
    expect(foreignManagers(crd)).toEqual(['helm', 'kubectl']);
    expect(foreignManagers({ metadata: { managedFields: crd.metadata.managedFields.slice(0, 3) } })).toEqual([]);
  });
});
