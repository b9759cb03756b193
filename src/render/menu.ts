// The interactive menu of `workshop select` (inquirer, imported only here, only on a TTY).
export interface MenuItem {
  value: string;
  name: string;
  disabled?: string;
}

export async function chooseStep(message: string, items: MenuItem[], current: string): Promise<string> {
  const { select } = await import('@inquirer/prompts');
  return select({
    message,
    default: current,
    pageSize: 20,
    choices: items.map((i) => (i.disabled ? { value: i.value, name: i.name, disabled: i.disabled } : { value: i.value, name: i.name })),
  });
}
