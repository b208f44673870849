// The reader of runnable docs (test/helpers/runnable-blocks.ts): which fences are blocks, where
// they start, what bash gets, and which marks are refused before e2e 60-docs runs anything.
import { describe, expect, it } from 'vitest';
import { DEFAULT_BLOCK_TIMEOUT_SECONDS, fences, runnableBlocks } from '../helpers/runnable-blocks.ts';

const doc = (...lines: string[]) => lines.join('\n');

describe('fences', () => {
  it('finds backtick and tilde fences with their line, info string and body', () => {
    const found = fences(doc('# title', '', '```sh', 'echo one', '```', 'text', '~~~yaml  ', 'a: 1', '~~~'));
    expect(found).toEqual([
      { line: 3, info: 'sh', body: 'echo one', closed: true },
      { line: 7, info: 'yaml', body: 'a: 1', closed: true },
    ]);
  });

  it('closes only on the same character, at least as long, with nothing after it', () => {
    const found = fences(doc('````md', '```sh runnable', 'inner', '```', '~~~~', '```` not a close', '`````', 'after'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 1, info: 'md', closed: true });
    expect(found[0]!.body).toBe(doc('```sh runnable', 'inner', '```', '~~~~', '```` not a close'));
  });

  it('takes up to 3 spaces of indentation, and strips the opening indentation from the body', () => {
    expect(fences(doc('  ```sh', '    echo indented', '  echo less', '  ```'))).toEqual([{ line: 1, info: 'sh', body: doc('  echo indented', 'echo less'), closed: true }]);
    expect(fences(doc('    ```sh', '    echo', '    ```'))).toEqual([]);
  });

  it('reads an unclosed fence to the end, and no fence in an HTML comment or inline code', () => {
    expect(fences(doc('<!--', '```sh', 'hidden', '```', '-->', '```sh', 'open'))).toEqual([{ line: 6, info: 'sh', body: 'open', closed: false }]);
    expect(fences(doc('```inline``` code', 'text'))).toEqual([]);
    expect(fences(doc('<!-- options-table -->', '```sh', 'x', '```'))).toEqual([{ line: 2, info: 'sh', body: 'x', closed: true }]);
  });
});

describe('runnable blocks', () => {
  it('are the sh and bash fences marked runnable, with the default or their own timeout', () => {
    const blocks = runnableBlocks(doc('```sh', 'npm run demo', '```', '', '```sh runnable', 'npx nx run infra:plan', '```', '```bash runnable timeout=900', 'a', 'b', '```'), 'README.md');
    expect(blocks).toEqual([
      { file: 'README.md', line: 5, code: 'npx nx run infra:plan', timeoutSeconds: DEFAULT_BLOCK_TIMEOUT_SECONDS },
      { file: 'README.md', line: 8, code: 'a\nb', timeoutSeconds: 900 },
    ]);
  });

  it('refuses a mark that cannot run, naming the file and the line', () => {
    expect(() => runnableBlocks(doc('text', '```yaml runnable', 'a: 1', '```'), 'docs/x.md')).toThrow('docs/x.md:2: a runnable block must be sh or bash, not "yaml"');
    expect(() => runnableBlocks(doc('```sh runnable timout=5', 'x', '```'), 'docs/x.md')).toThrow('docs/x.md:1: unknown word "timout=5" in the info string');
    expect(() => runnableBlocks(doc('```sh runnable timeout=0', 'x', '```'), 'docs/x.md')).toThrow('unknown word "timeout=0"');
    expect(() => runnableBlocks(doc('', '```sh runnable', 'x'), 'docs/x.md')).toThrow('docs/x.md:2: the runnable block is never closed');
    expect(() => runnableBlocks(doc('```sh runnable', '', '```'), 'docs/x.md')).toThrow('docs/x.md:1: the runnable block is empty');
  });

  it('refuses the mark on a fence in a list, a quote or indented as code: such a block would never run', () => {
    expect(() => runnableBlocks(doc('- step', '', '  ```sh runnable', '  x', '  ```'), 'a.md')).not.toThrow();
    expect(() => runnableBlocks(doc('- ```sh runnable', '  x', '  ```'), 'a.md')).toThrow('a.md:1: a runnable block must start at the margin');
    expect(() => runnableBlocks(doc('> ```sh runnable', '> x', '> ```'), 'a.md')).toThrow('a.md:1: a runnable block must start at the margin');
    expect(() => runnableBlocks(doc('text', '', '     ```sh runnable', '     x', '     ```'), 'a.md')).toThrow('a.md:3: a runnable block must start at the margin');
  });

  it('does not mistake an example of the mark inside another block for a block', () => {
    expect(runnableBlocks(doc('````markdown', '```sh runnable', 'npx nx run infra:plan', '```', '````'), 'docs/runnable-docs.md')).toEqual([]);
  });
});
