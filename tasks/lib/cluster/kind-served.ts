// Whether a kind is served in discovery and published in the OpenAPI v3 index. kwok builds a
// Stage's controller from the OpenAPI spec of its kind, and a group reaches /openapi/v3 a moment
// after discovery serves it (a new CRD's, and under load the built-in ones right after start): a
// Stage applied in between fails with "GroupVersion … not found as OpenAPI V3 path", and kwok
// never retries until the Stage changes (seen: FluxInstance never Ready on one sandbox cluster).
import { isNotFound, type Kube } from './kube.ts';

/** `apiGroup` as a Stage's resourceRef names it: "v1" for the core group, else "group/version". */
export async function servedForStages(kube: Kube, apiGroup: string, kind: string): Promise<boolean> {
  const [group, version] = apiGroup.includes('/') ? apiGroup.split('/') : ['', apiGroup];
  try {
    // The core group ("v1") lives under /api, every other one under /apis.
    const resources = group ? await kube.customObjects.getAPIResources({ group, version: version! }) : await kube.core.getAPIResources();
    if (!resources.resources.some((r) => r.kind === kind)) return false;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const index = (await kube.getJson('/openapi/v3')) as { paths?: Record<string, unknown> };
  return Object.hasOwn(index.paths ?? {}, group ? `apis/${group}/${version}` : 'api/v1');
}
