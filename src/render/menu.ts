// The interactive menu of `workshop select` (inquirer, imported only here, only on a TTY).
export interface MenuItem {
  value: string;
  name: string;
  /** why it cannot be chosen (a skipped chapter's reason); shown next to it */
  disabled?: string;
}

/** What the learner did with the menu. Escape and Ctrl-C are answers, not errors. */
export type MenuAnswer = { kind: 'chosen'; value: string } | { kind: 'cancelled'; by: 'escape' | 'interrupt' };

/** The inquirer errors that mean "the learner closed the prompt", by name (their classes live in @inquirer/core). */
const closedBy = (err: unknown): 'escape' | 'interrupt' | null =>
  err instanceof Error ? (err.name === 'AbortPromptError' ? 'escape' : err.name === 'ExitPromptError' ? 'interrupt' : null) : null;

export async function chooseStep(message: string, items: readonly MenuItem[], current: string): Promise<MenuAnswer> {
  const { select, Separator } = await import('@inquirer/prompts');
  // inquirer has no Escape binding: a lone ESC (readline waits for a following byte before it
  // calls it `escape`, so arrow keys are not mistaken for it) aborts the prompt.
  const abort = new AbortController();
  const onKey = (_: unknown, key: { name?: string } | undefined) => {
    if (key?.name === 'escape') abort.abort();
  };
  process.stdin.on('keypress', onKey);
  const chosable = items.some((i) => i.value === current && i.disabled === undefined);
  try {
    const value = await select(
      {
        message,
        ...(chosable ? { default: current } : {}),
        pageSize: 20,
        // Up from the first step stops there: a wrap to the last chapter's last step lost the learner
        loop: false,
        // A step that cannot be chosen is a line of the menu the cursor never lands on (a disabled
        // choice at the end caught it once Up and Down stopped wrapping).
        choices: items.map((i) => (i.disabled ? new Separator(`  ${i.name} ${i.disabled}`) : { value: i.value, name: i.name })),
      },
      { signal: abort.signal },
    );
    return { kind: 'chosen', value };
  } catch (err) {
    const by = closedBy(err);
    if (by === null) throw err;
    return { kind: 'cancelled', by };
  } finally {
    process.stdin.off('keypress', onKey);
  }
}
