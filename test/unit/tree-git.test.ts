// The rehearsal's git server, with the real git client: a clone over smart HTTP gets the one
// commit of the tree as it is on disk (a SOPS document as its placeholder), and nothing can push.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLACEHOLDER } from '../../tasks/lib/rehearsal/tree-artifact.ts';
import { serveGitRepositories, type ServedGit } from '../../tasks/lib/rehearsal/tree-git.ts';

const run = promisify(execFile);
const SECRET = ['apiVersion: v1', 'kind: Secret', 'metadata: {name: cluster-secrets}', 'stringData:', '  TOKEN: ENC[AES256_GCM,data:abc]', 'sops:', '  version: 3.9.0', ''].join('\n');

describe('serveGitRepositories', () => {
  let dir: string;
  let served: ServedGit;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tree-git-test-'));
    await mkdir(path.join(dir, 'tree/kubernetes/flux'), { recursive: true });
    await mkdir(path.join(dir, 'tree/other'), { recursive: true });
    await writeFile(path.join(dir, 'tree/kubernetes/flux/ks.yaml'), 'kind: Kustomization\n');
    await writeFile(path.join(dir, 'tree/kubernetes/secret.sops.yaml'), SECRET);
    await writeFile(path.join(dir, 'tree/other/not-served.yaml'), 'x: 1\n');
    await mkdir(path.join(dir, 'private'), { recursive: true });
    await writeFile(path.join(dir, 'private/app.yaml'), 'kind: ConfigMap\n');
    served = await serveGitRepositories(
      [
        { name: 'flux-system', root: path.join(dir, 'tree'), folders: ['kubernetes'] },
        { name: 'home-ops-private', root: path.join(dir, 'private'), folders: ['.'] },
      ],
      'unit',
    );
  });
  afterAll(async () => {
    await served.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and names each repository by its source', () => {
    expect(served.listener).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(served.urls.get('flux-system')).toBe(`http://${served.listener}/flux-system.git`);
    expect(served.urls.get('home-ops-private')).toBe(`http://${served.listener}/home-ops-private.git`);
  });

  it('serves one commit of the chosen folders on main, SOPS documents as placeholders', async () => {
    const clone = path.join(dir, 'clone');
    await run('git', ['clone', '-q', '--branch', 'main', served.urls.get('flux-system')!, clone]);
    expect(await readFile(path.join(clone, 'kubernetes/flux/ks.yaml'), 'utf8')).toBe('kind: Kustomization\n');
    const secret = await readFile(path.join(clone, 'kubernetes/secret.sops.yaml'), 'utf8');
    expect(secret).toContain(`TOKEN: ${PLACEHOLDER}`);
    expect(secret).not.toContain('ENC[');
    expect(secret).not.toContain('sops:');
    await expect(readFile(path.join(clone, 'other/not-served.yaml'))).rejects.toThrow(/ENOENT/);
    const { stdout } = await run('git', ['-C', clone, 'rev-parse', 'HEAD']);
    expect(stdout.trim()).toBe(served.revisions.get('flux-system'));
  });

  it('serves each repository separately', async () => {
    const clone = path.join(dir, 'private-clone');
    await run('git', ['clone', '-q', served.urls.get('home-ops-private')!, clone]);
    expect(await readFile(path.join(clone, 'app.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
  });

  it('refuses a push and an unknown repository', async () => {
    const clone = path.join(dir, 'push-clone');
    await run('git', ['clone', '-q', served.urls.get('flux-system')!, clone]);
    await writeFile(path.join(clone, 'new.yaml'), 'x: 1\n');
    await run('git', ['-C', clone, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'x', '--allow-empty']);
    await expect(run('git', ['-C', clone, 'push', '-q', 'origin', 'HEAD:main'])).rejects.toThrow(/403/);
    await expect(run('git', ['ls-remote', `http://${served.listener}/nope.git`])).rejects.toThrow();
  });
});
