// The external tools (helm, helmfile) behind a version check with install hints.
import { BootstrapError } from '../runtime/errors.ts';
import { requireTool, toolShell } from './run-tool.ts';
import { keptByKey } from '../runtime/kept.ts';
import { toolIdentity } from './tool-identity.ts';

export interface ToolVersion {
  tool: string;
  version: string;
}

/** Parses "v4.3.1", "v3.18.0+g1234", "helmfile version v1.7.4" into [major, minor, patch]. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function atLeast(version: [number, number, number], minimum: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== minimum[i]!) return version[i]! > minimum[i]!;
  }
  return true;
}

const installHint = 'run scripts/build-tools.sh (builds the pinned versions), or install them from their release pages';

/** Helm 4, or Helm 3.18+ (Helm 3 gets security fixes only until Feb 2027). */
export function checkHelmVersion(text: string): ToolVersion {
  const version = parseVersion(text);
  if (!version || !atLeast(version, [3, 18, 0])) {
    throw new BootstrapError({
      subject: 'helm',
      problem: `version ${text.trim() || 'unknown'} is not supported (need Helm 4, or 3.18 or newer)`,
      fix: installHint,
    });
  }
  return { tool: 'helm', version: `v${version.join('.')}` };
}

export function checkHelmfileVersion(text: string): ToolVersion {
  const version = parseVersion(text);
  if (!version || !atLeast(version, [1, 0, 0])) {
    throw new BootstrapError({
      subject: 'helmfile',
      problem: `version ${text.trim() || 'unknown'} is not supported (need helmfile v1.x for Helm 4 support)`,
      fix: installHint,
    });
  }
  return { tool: 'helmfile', version: `v${version.join('.')}` };
}

async function versionOutput(tool: string, args: string[]): Promise<string> {
  const binary = requireTool(tool, process.env, installHint);
  const result = await toolShell(tool)`${binary} ${args}`;
  return `${result.stdout}${result.stderr}`;
}

/**
 * helm and helmfile, each at a supported version. Asked once per binary: the versions are kept in
 * dist/.tool-versions under the binaries' identity (path, size, mtime), so a replaced binary is asked again.
 */
export async function checkTools(): Promise<ToolVersion[]> {
  return keptByKey('.tool-versions', toolIdentity(), async () => {
    const [helm, helmfile] = await Promise.all([versionOutput('helm', ['version', '--template', '{{.Version}}']), versionOutput('helmfile', ['--version'])]);
    return [checkHelmVersion(helm), checkHelmfileVersion(helmfile)];
  });
}
