// Prints the helm and helmfile versions in use: an Nx runtime input of the cached render,
// so a tool upgrade re-renders the CRD bundles.
import { checkTools, withToolsOnPath } from './lib/tools/tools.ts';

withToolsOnPath();
const versions = await checkTools().catch(() => [{ tool: 'helm/helmfile', version: 'missing' }]);
process.stdout.write(`${versions.map((v) => `${v.tool} ${v.version}`).join('\n')}\n`);
