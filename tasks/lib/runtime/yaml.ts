// The one door to YAML. Two libraries, each where it is best, behind named entry points:
// - hand-written files (cluster.yaml, values, manifests in git): `yaml`, whose errors carry the
//   line and whose documents keep positions;
// - machine-written text (helm's render, the several-MB CRD bundle): `js-yaml`, about 15x faster
//   (npm run benchmark);
// - writing: `yaml`, with no line folding.
// It never loads the Kubernetes client (about 1 s and 85 MiB): the Nx plugin and the offline
// tasks read YAML too. The client's own loader and serializer live in kube.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll, YAMLException } from 'js-yaml';
import { parse, parseAllDocuments, parseDocument, stringify, type Document } from 'yaml';

export { YAMLException };

/** One hand-written document, with its errors (code, line) for messages. */
export function parseHandWrittenDocument(text: string): Document.Parsed {
  return parseDocument(text, { prettyErrors: true });
}

/** Every document of a hand-written multi-document file, with their errors. */
export function parseHandWrittenDocuments(text: string): Document.Parsed[] {
  return parseAllDocuments(text) as Document.Parsed[];
}

/** A hand-written value whose errors need no position (Chart.yaml, helm show chart, test fixtures). */
export function parseValue<T>(text: string): T {
  return parse(text) as T;
}

/** Every document of machine-written text; throws YAMLException (with its mark) on invalid text. */
export function loadMachineWritten(text: string): unknown[] {
  return loadAll(text);
}

/** The objects of machine-written text (helm's output), empty documents left out. */
export function loadObjects(text: string): KubernetesObject[] {
  return loadAll(text).filter((o): o is KubernetesObject => !!o && typeof o === 'object');
}

export function writeYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
