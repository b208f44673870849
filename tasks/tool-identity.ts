// Prints which helm and helmfile binaries are in use (tasks/lib/tools/tool-identity.ts): an Nx
// runtime input of the cached targets, so a tool upgrade re-renders the CRD bundles.
import { toolIdentity, withToolsOnPath } from './lib/tools/tool-identity.ts';

withToolsOnPath();
process.stdout.write(`${toolIdentity()}\n`);
