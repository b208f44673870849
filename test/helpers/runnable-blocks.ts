// Runnable docs (docs/runnable-docs.md): the fenced blocks of README.md and docs/ whose info
// string says `runnable` are commands that e2e 60-docs runs on the sandbox. This reads them.
// No markdown library is installed, so fences are found line by line with CommonMark's rules
// for fences at the margin: an opening run of 3+ backticks or tildes indented at most 3 spaces,
// closed by a run of the same character at least as long with nothing after it; a backtick
// fence's info string holds no backtick; an unclosed fence runs to the end; an HTML comment
// block (`<!-- … -->`) holds no fence. A fence behind a list or quote marker, or indented 4 spaces
// or more, is not read, so `runnable` on one is an error rather than a block that never runs.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

export interface Fence {
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  body: string;
  closed: boolean;
}

export interface RunnableBlock {
  /** The file, relative to the workspace root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** What bash runs (bash -euo pipefail), as written between the fences. */
  code: string;
  timeoutSeconds: number;
}

/** A block without timeout=<seconds> gets this long. */
export const DEFAULT_BLOCK_TIMEOUT_SECONDS = 300;
const SHELLS = new Set(['sh', 'bash']);

export class RunnableDocsError extends Error {}

const OPENING = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const COMMENT_START = /^ {0,3}<!--/;

/** Every fenced code block at the margin of a markdown document, in order. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split(/\r?\n/);
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (COMMENT_START.test(line)) {
      while (i < lines.length && !lines[i]!.includes('-->')) i++;
      continue;
    }
    const open = OPENING.exec(line);
    if (!open) continue;
    const [, indent, run, rest] = open as unknown as [string, string, string, string];
    if (run[0] === '`' && rest.includes('`')) continue; // inline code such as ```` ```x``` ````, not a fence
    const closing = new RegExp(`^ {0,3}${run[0] === '`' ? '`' : '~'}{${run.length},}[ \\t]*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j]!); j++) {
      // Content loses up to the opening fence's indentation, as CommonMark says.
      body.push(lines[j]!.replace(new RegExp(`^ {0,${indent.length}}`), ''));
    }
    found.push({ line: i + 1, info: rest.trim(), body: body.join('\n'), closed: j < lines.length });
    i = j;
  }
  return found;
}

/** The runnable blocks of one document; a block marked runnable that cannot run is an error naming file:line. */
export function runnableBlocks(markdown: string, file: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  const fail = (line: number, problem: string) => new RunnableDocsError(`${file}:${line}: ${problem} (the convention: docs/runnable-docs.md)`);
  const opening = new Set<number>();
  for (const fence of fences(markdown)) {
    opening.add(fence.line);
    const [lang = '', ...words] = fence.info.split(/\s+/);
    if (!words.includes('runnable') && lang !== 'runnable') continue;
    if (!SHELLS.has(lang)) throw fail(fence.line, `a runnable block must be sh or bash, not "${lang}"`);
    let timeoutSeconds = DEFAULT_BLOCK_TIMEOUT_SECONDS;
    for (const word of words) {
      const timeout = /^timeout=([1-9]\d*)$/.exec(word);
      if (timeout) timeoutSeconds = Number(timeout[1]);
      else if (word !== 'runnable') throw fail(fence.line, `unknown word "${word}" in the info string (known: runnable, timeout=<seconds>)`);
    }
    if (!fence.closed) throw fail(fence.line, 'the runnable block is never closed');
    if (fence.body.trim() === '') throw fail(fence.line, 'the runnable block is empty');
    blocks.push({ file, line: fence.line, code: fence.body, timeoutSeconds });
  }
  // A fence this reader does not see (in a list or a quote) must not carry the mark.
  for (const [index, line] of markdown.split(/\r?\n/).entries()) {
    if (/^\s*(>\s*)*[-*+]?\s*(\d+[.)])?\s*(```|~~~).*\brunnable\b/.test(line) && !opening.has(index + 1) && !insideFence(markdown, index + 1)) {
      throw fail(index + 1, 'a runnable block must start at the margin, not inside a list or a quote');
    }
  }
  return blocks;
}

function insideFence(markdown: string, line: number): boolean {
  return fences(markdown).some((f) => line > f.line && line <= f.line + f.body.split('\n').length);
}

/** The markdown files the docs test reads: README.md, then every .md under docs/, sorted. */
export async function docsFiles(root = workspaceRoot): Promise<string[]> {
  const entries = await readdir(path.join(root, 'docs'), { recursive: true, withFileTypes: true }).catch(() => []);
  const docs = entries.filter((e) => e.isFile() && e.name.endsWith('.md')).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  return ['README.md', ...docs.sort()];
}

/** Every runnable block of README.md and docs/, in the order the docs test runs them. */
export async function docsRunnableBlocks(root = workspaceRoot): Promise<RunnableBlock[]> {
  const blocks: RunnableBlock[] = [];
  for (const file of await docsFiles(root)) blocks.push(...runnableBlocks(await readFile(path.join(root, file), 'utf8'), file));
  return blocks;
}
