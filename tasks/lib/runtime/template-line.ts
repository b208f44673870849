// helmfile renders a state file in parts split at `---` lines and reports a template error by
// the line within the part ("00-crds.yaml.gotmpl.part.1 … stringTemplate:19:23"). This maps it
// back to the line of the file the user edits.
import { readFileSync } from 'node:fs';

export interface FileLine {
  line: number;
  text: string;
}

/** Pure: the file line of a part-relative template error, or undefined when the text holds none. */
export function templateErrorLine(stderr: string, fileText: string): FileLine | undefined {
  const match = /\.part\.(\d+) parsing: template: stringTemplate:(\d+):\d+/.exec(stderr);
  if (!match) return undefined;
  const [part, lineInPart] = [Number(match[1]), Number(match[2])];
  const lines = fileText.split('\n');
  const separators = lines.flatMap((text, index) => (text.trim() === '---' ? [index + 1] : []));
  const offset = part === 0 ? 0 : separators[part - 1];
  if (offset === undefined) return undefined;
  const line = offset + lineInPart;
  return { line, text: (lines[line - 1] ?? '').trim() };
}

export function stateFileLine(stderr: string, stateFile: string): FileLine | undefined {
  try {
    return templateErrorLine(stderr, readFileSync(stateFile, 'utf8'));
  } catch {
    return undefined;
  }
}
