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
import { foreignGitSources, pointAtServedCopies } from '../../tasks/lib/rehearsal/foreign-sources.ts';
import { REHEARSAL_SOURCE_LABEL } from '../../tasks/lib/rehearsal/flux-controllers.ts';
import { parseValue } from '../../tasks/lib/runtime/yaml.ts';

const run = promisify(execFile);
// As real trees declare a second repository: SSH url, a deploy key, a tag, no namespace (the kustomization.yaml sets it).
const PRIVATE_SOURCE = [
  '---',
  'apiVersion: source.toolkit.fluxcd.io/v1',
  'kind: GitRepository',
  'metadata:',
  '  name: home-ops-private',
  'spec:',
  '  interval: 1h',
  '  url: ssh://git@github.com/example/home-ops-private',
  '  ref:',
  '    tag: v1.2.0',
  '  secretRef:',
  '    name: home-ops-private-deploy-key',
  '---',
  'apiVersion: source.toolkit.fluxcd.io/v1',
  'kind: GitRepository',
  'metadata:',
  '  name: vendor-charts',
  'spec:',
  '  interval: 1h',
  '  url: https://github.com/example/vendor-charts',
  '',
].join('\n');
const SECRET = ['apiVersion: v1', 'kind: Secret', 'metadata: {name: cluster-secrets}', 'stringData:', '  TOKEN: ENC[AES256_GCM,data:abc]', 'sops:', '  version: 3.9.0', ''].join('\n');

describe('serveGitRepositories', () => {
  let dir: string;
  let served: ServedGit;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tree-git-test-'));
    await mkdir(path.join(dir, 'tree/kubernetes/flux'), { recursive: true });
    await mkdir(path.join(dir, 'tree/other'), { recursive: true });
    await writeFile(path.join(dir, 'tree/kubernetes/flux/ks.yaml'), 'kind: Kustomization\n');
    await writeFile(path.join(dir, 'tree/kubernetes/flux/sources.yaml'), PRIVATE_SOURCE);
    await writeFile(path.join(dir, 'tree/kubernetes/secret.sops.yaml'), SECRET);
    await writeFile(path.join(dir, 'tree/other/not-served.yaml'), 'x: 1\n');
    await mkdir(path.join(dir, 'private'), { recursive: true });
    await writeFile(path.join(dir, 'private/app.yaml'), 'kind: ConfigMap\n');
    served = await serveGitRepositories(
      [
        { name: 'flux-system', root: path.join(dir, 'tree'), folders: ['kubernetes'] },
        { name: 'flux-system.home-ops-private', root: path.join(dir, 'private'), folders: ['.'] },
      ],
      'unit',
      (urls) => pointAtServedCopies(foreignGitSources({ 'GitRepository/flux-system/home-ops-private': path.join(dir, 'private') }, '/'), urls),
    );
  });
  afterAll(async () => {
    await served.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and names each repository by its source', () => {
    expect(served.listener).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(served.urls.get('flux-system')).toBe(`http://${served.listener}/flux-system.git`);
    expect(served.urls.get('flux-system.home-ops-private')).toBe(`http://${served.listener}/flux-system.home-ops-private.git`);
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
    await run('git', ['clone', '-q', served.urls.get('flux-system.home-ops-private')!, clone]);
    expect(await readFile(path.join(clone, 'app.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
  });

  it('points the tree\'s GitRepository that gitops.sources maps at its served copy, on main, without credentials; an unmapped one stays as written', async () => {
    const clone = path.join(dir, 'rewrite-clone');
    await run('git', ['clone', '-q', served.urls.get('flux-system')!, clone]);
    const [mapped, unmapped] = (await readFile(path.join(clone, 'kubernetes/flux/sources.yaml'), 'utf8')).split(/^---\n/m).filter(Boolean).map((d) => parseValue<any>(d));
    expect(mapped.metadata.labels).toEqual({ [REHEARSAL_SOURCE_LABEL]: 'true' });
    expect(mapped.spec).toEqual({ interval: '1h', url: served.urls.get('flux-system.home-ops-private'), ref: { branch: 'main' } });
    expect(unmapped.spec.url).toBe('https://github.com/example/vendor-charts');
    expect(unmapped.metadata.labels).toBeUndefined();
    expect(served.rewritten).toEqual(['kubernetes/flux/sources.yaml (GitRepository home-ops-private)']);
    // The served copy is what source-controller would clone at that url.
    await run('git', ['ls-remote', '--exit-code', mapped.spec.url, 'refs/heads/main']);
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
