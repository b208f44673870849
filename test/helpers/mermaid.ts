// mermaid's own parser, as the renderer GitHub uses parses a diagram. @mermaid-js/parser (2.0.1)
// has no flowchart grammar, so this is mermaid.parse. mermaid sanitizes labels with DOMPurify,
// which needs a DOM: jsdom provides one (without it every valid flowchart fails with
// "DOMPurify.addHook is not a function").

/** The little of jsdom used here (its types, @types/jsdom, would add DOM globals to the whole project). */
type Jsdom = { JSDOM: new (html: string) => { window: { document: unknown } } };

let mermaid: { parse(text: string): Promise<{ diagramType: string }> } | undefined;

export async function parseMermaid(text: string): Promise<{ diagramType: string }> {
  if (!mermaid) {
    const { JSDOM } = (await import('jsdom' as string)) as Jsdom;
    const { window } = new JSDOM('');
    Object.assign(globalThis, { window, document: window.document });
    mermaid = (await import('mermaid')).default;
  }
  return mermaid.parse(text);
}

/** The body of the first ```mermaid block of a Markdown text. */
export function mermaidBlock(markdown: string): string | undefined {
  return /```mermaid\n([\s\S]*?)\n```/.exec(markdown)?.[1];
}
