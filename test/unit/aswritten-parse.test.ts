// The as-written convention's parser: which blocks a learner types, into which shell.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codeBlocks, promptPatterns, runsAsWritten, typedLines } from '../../src/lessons/markdown.ts';

const md = [
  'Intro.', //                                    1
  '', //                                          2
  '```bash', //                                   3
  'cd $(workshop path)', //                       4
  '```', //                                       5
  '', //                                          6
  '```text', //                                   7
  'merged  upper', //                             8
  '```', //                                       9
  '', //                                          10
  '```bash norun', //                             11
  'nonce=AbC123xYz0', //                          12
  '```', //                                       13
  '', //                                          14
  '> **Warning:** try it:', //                    15
  '>', //                                         16
  '> ```bash', //                                 17
  '> chroot rootfs /ls-dynamic', //               18
  '> ```', //                                     19
  '', //                                          20
  '```bash terminal=2', //                        21
  'ps -ef', //                                    22
  '```', //                                       23
].join('\n');

describe('codeBlocks', () => {
  it('gives each block its info, language, terminal, norun flag, file line and lines', () => {
    const b = codeBlocks(md, 10);
    expect(b.map((x) => [x.lang, x.line, x.terminal, x.norun, x.lines])).toEqual([
      ['bash', 12, 1, false, ['cd $(workshop path)']],
      ['text', 16, 1, false, ['merged  upper']],
      ['bash', 20, 1, true, ['nonce=AbC123xYz0']],
      ['bash', 26, 1, false, ['chroot rootfs /ls-dynamic']],
      ['bash', 30, 2, false, ['ps -ef']],
    ]);
    expect(b.map(runsAsWritten)).toEqual([true, false, false, true, true]);
  });

  it('keeps a heredoc body with blank lines and # comments whole', () => {
    const [b] = codeBlocks(['```bash', "cat > x.sh <<'EOF'", '#!/bin/sh', '', 'echo hi', 'EOF', '```'].join('\n'));
    expect(b?.lines).toEqual(["cat > x.sh <<'EOF'", '#!/bin/sh', '', 'echo hi', 'EOF']);
  });

  it('finds every block of the real chapters, none unclosed', () => {
    for (const ch of ['00-preflight', '01-chroot', '02-overlayfs']) {
      const text = readFileSync(new URL(`../../lessons/${ch}/chapter.md`, import.meta.url), 'utf8');
      const fences = text.split('\n').filter((l) => /^(\s*>\s?)*\s*```/.test(l)).length;
      expect(codeBlocks(text).length * 2, ch).toBe(fences);
    }
  });
});

describe('promptPatterns', () => {
  it('turns each PS1 the chapter sets into a prompt, a $variable matching any word', () => {
    const p = promptPatterns('PS1="C-$ " chroot rootfs sh\nPS1="$nonce-# " chroot x sh\n');
    const match = (l: string) => p.map((r) => r.exec(l)?.[0]).find((x) => x !== undefined);
    expect(match('C-$ touch HELLO.txt')).toBe('C-$ ');
    expect(match('<nonce1>-# ls /')).toBe('<nonce1>-# ');
    expect(match('[lab ws-host]# ip -br link')).toBe('[lab ws-host]# ');
    expect(match('echo C-$ > x')).toBeUndefined();
    expect(match('mount -t proc none /tmp/$nonce/overlay/proc')).toBeUndefined();
  });
});

describe('typedLines', () => {
  const prompts = promptPatterns('PS1="C-$ "');
  const kinds = (lines: string[]) => typedLines({ line: 100, lines }, prompts).map((t) => [t.kind, t.text, t.line]);

  it('types the prompt lines into the shell that the line before started, and leaves it at exit', () => {
    expect(kinds(['PS1="C-$ " chroot rootfs /bin/busybox sh', 'C-$ touch HELLO.txt', 'C-$ exit', 'cat rootfs/HELLO.txt'])).toEqual([
      ['start', 'PS1="C-$ " chroot rootfs /bin/busybox sh', 101],
      ['type', 'touch HELLO.txt', 102],
      ['exit', 'exit', 103],
      ['type', 'cat rootfs/HELLO.txt', 104],
    ]);
  });

  it('starts the lab shell at `workshop shell host`, and skips `workshop next` and blank lines', () => {
    expect(kinds(['workshop shell host', 'ip -br link', '', 'workshop next', 'workshop shell host -- ip -br link'])).toEqual([
      ['start', 'workshop shell host', 101],
      ['type', 'ip -br link', 102],
      ['skip', '', 103],
      ['skip', 'workshop next', 104],
      ['type', 'workshop shell host -- ip -br link', 105],
    ]);
  });

  it('does not look for prompts or exits inside a heredoc', () => {
    expect(kinds(["cat > c.sh <<'EOF'", 'C-$ not a prompt', 'exit', 'EOF', 'chmod +x c.sh']).map((k) => k[0])).toEqual(['type', 'type', 'type', 'type', 'type']);
  });
});

describe('blocksPerStep', () => {
  it("gives the intro's blocks to the first step, each step its own, and never the closing section's", async () => {
    const { blocksPerStep } = await import('../../src/engine/aswritten.ts');
    const text = ['# T', '```bash', 'cd $(workshop path)', '```', '## One {#one}', '```bash', 'a', '```', '```bash norun', 'x', '```', '## Two {#two}', '```text', 'out', '```', '## What you built', '```bash', 'docker inspect c', '```'].join('\n');
    const plan = blocksPerStep(text, [{ id: 'one', line: 5 }, { id: 'two', line: 12 }], 16);
    expect(plan.map((s) => [s.id, s.blocks.map((b) => b.lines.join('|'))])).toEqual([
      ['one', ['cd $(workshop path)', 'a']],
      ['two', []],
    ]);
  });
});
