// A local OCI registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1 only, with its
// own config: the packaged one listens on every interface and wants htpasswd.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BootstrapError } from '../../tasks/lib/runtime/errors.ts';
import { isPortFree } from './ports.ts';
import { spawnDetached } from './processes.ts';
import { sandboxPaths } from './state.ts';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export async function registryHealthy(address: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startRegistry(address: string): Promise<number> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new BootstrapError({
      subject: 'sandbox registry',
      problem: `${REGISTRY_BINARY} is not installed`,
      fix: 'apt-get install docker-registry (scripts/install-system-packages.sh does it)',
    });
  }
  const port = Number(address.split(':')[1]);
  if (!(await isPortFree(port))) {
    throw new BootstrapError({
      subject: `sandbox registry ${address}`,
      problem: `port ${port} is already in use by another process`,
      fix: `stop that process, or change registryMirror.host in every clusters/*/cluster.yaml to a free 127.0.0.1 port`,
    });
  }
  const dataDir = path.join(sandboxPaths.registryDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const config = path.join(sandboxPaths.registryDir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(dataDir)} }, delete: { enabled: true } }`,
      `http: { addr: ${JSON.stringify(address)} }`,
      '',
    ].join('\n'),
  );
  const pid = spawnDetached(REGISTRY_BINARY, ['serve', config], path.join(sandboxPaths.registryDir, 'registry.log'));
  for (let i = 0; i < 100; i++) {
    if (await registryHealthy(address)) return pid;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new BootstrapError({
    subject: `sandbox registry ${address}`,
    problem: 'did not start',
    fix: `read ${path.relative(process.cwd(), path.join(sandboxPaths.registryDir, 'registry.log'))}`,
  });
}
