/** The workflow of bench:tasks' ceiling: nothing but a start and a completion (see temporal-ceiling.ts). */
export async function empty(input: string): Promise<string> {
  return input;
}
