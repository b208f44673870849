import { describe, expect, it } from 'vitest';
import { buildSecret, placeholderSecret } from '../../tasks/lib/cluster/secrets.ts';

const spec = { name: 'token', namespace: 'cert-manager', type: 'Opaque', data: { 'api-token': { env: 'TEST_TOKEN' } } };

describe('buildSecret', () => {
  it('reads values from the environment into base64 data', async () => {
    const secret = await buildSecret(spec, 'clusters/x/cluster.yaml', { TEST_TOKEN: 's3cr3t-value' });
    expect(secret.data).toEqual({ 'api-token': Buffer.from('s3cr3t-value').toString('base64') });
    expect(secret.metadata).toEqual({ name: 'token', namespace: 'cert-manager' });
  });

  it('names the secret, key and variable when a value is missing, without any value', async () => {
    await expect(buildSecret(spec, 'clusters/x/cluster.yaml', {})).rejects.toThrow(
      'clusters/x/cluster.yaml: prerequisites.secrets cert-manager/token key "api-token": environment variable TEST_TOKEN is not set',
    );
  });

  it('a placeholder secret (the rehearsal\'s) has the same keys and reads no source', () => {
    const opSpec = { ...spec, data: { 'api-token': { env: 'NEVER_READ' }, other: { op: 'op://vault/item/field' } } };
    const secret = placeholderSecret(opSpec, 'rehearsal-placeholder');
    expect(secret.data).toEqual({ 'api-token': Buffer.from('rehearsal-placeholder').toString('base64'), other: Buffer.from('rehearsal-placeholder').toString('base64') });
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'token', namespace: 'cert-manager' }, type: 'Opaque' });
  });

  it('resolves op:// references through the reader it is given', async () => {
    const opSpec = { ...spec, data: { key: { op: 'op://vault/item/field' } } };
    const asked: string[] = [];
    const secret = await buildSecret(opSpec, 'f', {}, async (ref) => {
      asked.push(ref);
      return 'from-1password';
    });
    expect(asked).toEqual(['op://vault/item/field']);
    expect(Buffer.from(secret.data!['key']!, 'base64').toString()).toBe('from-1password');
  });
});
