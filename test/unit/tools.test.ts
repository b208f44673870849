import { describe, expect, it } from 'vitest';
import { checkHelmfileVersion, checkHelmVersion, parseVersion } from '../../tasks/lib/tools/tools.ts';

describe('tool versions', () => {
  it('parses the forms helm and helmfile print', () => {
    expect(parseVersion('v4.3.1')).toEqual([4, 3, 1]);
    expect(parseVersion('helmfile version v1.7.4')).toEqual([1, 7, 4]);
    expect(parseVersion('v3.18.0+g1234')).toEqual([3, 18, 0]);
    expect(parseVersion('garbage')).toBeUndefined();
  });

  it('accepts Helm 4 and Helm 3.18+, refuses older with an install hint', () => {
    expect(checkHelmVersion('v4.3.1')).toEqual({ tool: 'helm', version: 'v4.3.1' });
    expect(checkHelmVersion('v3.18.0')).toEqual({ tool: 'helm', version: 'v3.18.0' });
    expect(() => checkHelmVersion('v3.17.2')).toThrow(
      'helm: version v3.17.2 is not supported (need Helm 4, or 3.18 or newer)\n  fix: run scripts/build-tools.sh',
    );
  });

  it('needs helmfile v1', () => {
    expect(checkHelmfileVersion('helmfile version v1.7.4').version).toBe('v1.7.4');
    expect(() => checkHelmfileVersion('helmfile version v0.169.2')).toThrow('need helmfile v1.x');
  });
});
