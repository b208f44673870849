// Reading Kubernetes manifests from YAML files and folders (hand-written, or what helm rendered).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { BootstrapError } from './errors.ts';
import { relative } from './workspace.ts';
import { loadMachineWritten, parseHandWrittenDocuments } from './yaml.ts';

/** "apps/v1" → "apps"; "v1" (or none) → "" (the core group). */
export function groupOf(apiVersion: string | undefined): string {
  return apiVersion?.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

export interface SourcedObject {
  object: KubernetesObject;
  /** The file it came from (absolute). */
  file: string;
}

/** Parses a multi-document YAML text; empty documents (e.g. from `---` or disabled templates) are dropped. */
export function parseManifests(text: string, fileLabel: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const doc of parseHandWrittenDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new BootstrapError({
        subject: fileLabel,
        problem: `invalid YAML: ${doc.errors[0]!.message}`,
        fix: 'fix the YAML syntax at the line shown',
      });
    }
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value) || !('kind' in value) || !('apiVersion' in value)) {
      throw new BootstrapError({
        subject: fileLabel,
        problem: 'a document is not a Kubernetes object (it needs apiVersion and kind)',
        fix: 'remove the document or add apiVersion and kind',
      });
    }
    objects.push(value as KubernetesObject);
  }
  return objects;
}

/**
 * Loads what helm rendered. Machine-written and large (MBs of CRD schemas): js-yaml is ~15x
 * faster than `yaml` here (npm run benchmark); `yaml` keeps serving hand-written files, where
 * its error messages matter.
 */
export async function readRenderedManifests(dir: string): Promise<KubernetesObject[]> {
  const objects: KubernetesObject[] = [];
  for (const file of await findYamlFiles([dir])) {
    for (const value of loadMachineWritten(await readFile(file, 'utf8'))) {
      if (value && typeof value === 'object') objects.push(value as KubernetesObject);
    }
  }
  return objects;
}

/** All *.yaml / *.yml files under the given files or folders, sorted for a stable order. */
export async function findYamlFiles(entries: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const entry of entries) {
    let info;
    try {
      info = await stat(entry);
    } catch (cause) {
      throw new BootstrapError({ subject: relative(entry), problem: 'does not exist', fix: 'fix the path', cause });
    }
    if (info.isFile()) {
      files.push(entry);
      continue;
    }
    const names = await readdir(entry, { recursive: true });
    for (const name of names) {
      if (/\.ya?ml$/.test(name)) files.push(path.join(entry, name));
    }
  }
  return [...new Set(files)].sort();
}

export async function readManifests(entries: string[]): Promise<SourcedObject[]> {
  const result: SourcedObject[] = [];
  for (const file of await findYamlFiles(entries)) {
    const text = await readFile(file, 'utf8');
    for (const object of parseManifests(text, relative(file))) result.push({ object, file });
  }
  return result;
}
