/** OpenAI's usage block, from the token counts the pipeline reports. */
export function usageOf(counts: { promptTokens: number; completionTokens: number }) {
  return { prompt_tokens: counts.promptTokens, completion_tokens: counts.completionTokens, total_tokens: counts.promptTokens + counts.completionTokens };
}
