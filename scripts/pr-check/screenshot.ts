// Renders a pr-check comment the way a reviewer sees it, to a PNG: the Markdown turned into HTML
// (marked, GitHub-flavoured), Mermaid blocks drawn by mermaid itself, screenshotted by Debian's
// headless Chromium. For the README's picture; not part of any check.
//   npm run -s pr-check -- --base <ref> --format markdown > comment.md
//   node scripts/pr-check/screenshot.ts comment.md docs/pr-comment.png
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { marked } from 'marked';
import { $ } from 'zx';
import { workspaceRoot } from '../../tasks/lib/runtime/workspace.ts';

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: node scripts/pr-check/screenshot.ts <comment.md> <out.png>');

const markdown = await readFile(input, 'utf8');
// marked leaves a ```mermaid block as <pre><code class="language-mermaid">; mermaid draws <pre class="mermaid">.
const body = (await marked.parse(markdown, { gfm: true })).replace(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g, '<pre class="mermaid">$1</pre>');
const mermaidJs = path.join(workspaceRoot, 'node_modules/mermaid/dist/mermaid.min.js');
const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; max-width: 880px; margin: 16px; padding: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
h2, h3 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; } code { background: #eff1f3; padding: .2em .4em; border-radius: 6px; font-size: 85%; }
pre { background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; } pre.mermaid { background: none; text-align: center; }
details { margin: 8px 0; } summary { cursor: pointer; color: #0969da; }
</style><script src="file://${mermaidJs}"></script></head><body>${body}
<script>mermaid.initialize({ startOnLoad: true, theme: 'default' });</script></body></html>`;
const dir = await mkdtemp(path.join(os.tmpdir(), 'pr-comment-'));
try {
  const page = path.join(dir, 'comment.html');
  await writeFile(page, html);
  // No network: the page and mermaid are local files; the virtual time budget lets mermaid draw.
  await $({ quiet: true })`chromium --headless=new --no-sandbox --disable-gpu --allow-file-access-from-files --hide-scrollbars --window-size=960,1500 --virtual-time-budget=8000 --screenshot=${path.resolve(output)} file://${page}`;
} finally {
  await rm(dir, { recursive: true, force: true });
}
