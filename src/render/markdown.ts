// Markdown for the terminal. On a TTY with colour, marked + marked-terminal (imported lazily:
// they cost most of a command's start-up). Otherwise plain text that reads well in a pipe or log.

export function plainMarkdown(md: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      out.push(`    ${line}`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*?)\s*(\{#[^}]*\})?\s*$/.exec(line);
    if (h?.[2] !== undefined) {
      const title = h[2];
      out.push(title, (h[1] === '#' ? '=' : '-').repeat(Math.min(title.length, 72)));
      continue;
    }
    out.push(line.replace(/\*\*(.+?)\*\*/g, '$1').replace(/`([^`]+)`/g, '$1').replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>'));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

export async function renderMarkdown(md: string, color: boolean): Promise<string> {
  if (!color) return plainMarkdown(md);
  const [{ Marked }, { markedTerminal }] = await Promise.all([import('marked'), import('marked-terminal')]);
  const marked = new Marked();
  marked.use(markedTerminal({ reflowText: true, width: Math.min(process.stdout.columns ?? 80, 100), tab: 2 }) as Parameters<typeof marked.use>[0]);
  const clean = md.replace(/^(#{1,6}\s+.*?)\s*\{#[^}]*\}\s*$/gm, '$1');
  return String(await marked.parse(clean)).trimEnd();
}
