/**
 * Reads the fenced code blocks of a Markdown file, so whole-system tests can run a README's commands exactly as a
 * reader would type them (and the README cannot drift from the product).
 */
import { readFileSync } from 'node:fs';

export interface CodeBlock {
  /** The fence's language tag (`sh`, `js` ...). */
  language: string;
  /** The block's text, its indentation (a list item's) removed. */
  code: string;
  /** The `## ` heading the block stands under. */
  section: string;
}

/** Every fenced block of the Markdown file at `path`, in order. */
export function codeBlocks(path: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let section = '';
  let open: { language: string; indent: string; lines: string[] } | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (open) {
      if (line.trim() === '```') {
        blocks.push({ language: open.language, code: open.lines.join('\n'), section });
        open = undefined;
      } else {
        open.lines.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
      }
      continue;
    }
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (fence) {
      open = { language: fence[2] ?? '', indent: fence[1] ?? '', lines: [] };
    } else if (line.startsWith('## ')) {
      section = line.slice(3).trim();
    }
  }
  return blocks;
}
