// Reports as a pull-request comment reads them (--format markdown): the verdict and the findings
// first, then the whole text report in a collapsible <details>. GitHub renders Markdown, the
// <details> element and Mermaid code blocks in comments.

export interface MarkdownReport {
  /** e.g. "audit infra". */
  title: string;
  clean: boolean;
  /** One line after the title, e.g. "2 findings" or "0 breaking, 0 dropped, 1 added". */
  summary: string;
  /** Each finding as the Markdown of one list item (build them with md() and code()). */
  findings: string[];
  /** Shown after the findings, before the details (audit's Mermaid graph). */
  sections?: string[];
  /** The plain-text report, shown verbatim in the details. */
  text: string;
}

/** Text as Markdown shows it literally: no emphasis, links or HTML from a message's own characters. */
export function md(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_[\]|#~])/g, '\\$1');
}

/** Inline code; a backtick inside becomes a quote (inline code has no escape). */
export const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

/** A fenced block whose fence is longer than any backtick run inside, so the text cannot close it. */
export function fenced(text: string, language = 'text'): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

/** Line breaks inside one list item. */
export const lines = (...parts: string[]) => parts.filter(Boolean).join('<br>\n  ');

export function markdownReport({ title, clean, summary, findings, sections = [], text }: MarkdownReport): string {
  return [
    `### ${clean ? '✔' : '✗'} ${md(title)}: ${md(summary)}`,
    findings.length ? findings.map((f) => `- ${f}`).join('\n') : '',
    ...sections,
    `<details><summary>Full report</summary>\n\n${fenced(text)}\n\n</details>`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
