/** One ```ts block of a Markdown file; `context` is what its `<!-- snippet-context: ... -->` lines declare. */
export interface Snippet {
  code: string;
  context: string;
  /** 1-based line of the opening fence. */
  line: number;
}
export function extractSnippets(markdown: string): Snippet[];
