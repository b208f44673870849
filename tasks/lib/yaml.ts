// The one door to YAML. Two libraries, each where it is best, behind named entry points:
// - hand-written files (cluster.yaml, values, manifests in git): `yaml`, whose errors carry the
//   line and whose documents keep positions;
// - machine-written text (helm's render, the several-MB CRD bundle): `js-yaml`, about 15x faster
//   (npm run benchmark);
// - writing: `yaml`, with no line folding;
// - the Kubernetes client's own loader, which types built-in kinds and keeps `x-kubernetes-*`
//   schema keys (client-node #2962), and its serializer for the wire form.
import { dumpYaml, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
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

export function writeYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/**
 * Prepares an object for the API client. The client serializes built-in kinds through typed
 * models; a plain object loses keys such as `x-kubernetes-preserve-unknown-fields`, so objects go
 * through the client's own loader first.
 */
export function toClientObject<T extends KubernetesObject>(object: T): T {
  const [loaded] = loadAllYaml(JSON.stringify(object));
  return loaded as T;
}

/**
 * The wire form of an object the typed client returned: its models rename schema keys
 * (enum → _enum, x-kubernetes-* → x_kubernetes_*); its serializer gives the API's names back.
 */
export function toWire<T>(object: KubernetesObject): T {
  return loadAll(dumpYaml(object))[0] as T;
}
