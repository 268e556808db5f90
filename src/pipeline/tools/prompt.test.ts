import { describe, expect, it } from "vitest";
import { renderTurns, withToolsShown } from "./prompt.js";
import type { ToolsSpec } from "./types.js";

describe("tools in the prompt", () => {
  it("renders calls as the grammar makes the model write them, and results in words naming the function", () => {
    const messages = renderTurns([
      { role: "user", content: "Weather and time in Paris?", name: "jane" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Paris"}' }, { id: "c2", name: "get_time", arguments: "not json" }] },
      { role: "tool", content: "sunny", toolCallId: "c1" },
      { role: "tool", content: "10:00", toolCallId: "c2" },
      { role: "user", content: "Thanks" },
    ]);
    expect(messages).toEqual([
      { role: "user", content: "Weather and time in Paris?" },
      { role: "assistant", content: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": "not json"}\n</tool_call>' },
      { role: "user", content: "The result of get_weather: sunny\nThe result of get_time: 10:00" },
      { role: "user", content: "Thanks" },
    ]);
  });

  it("shows the offered tools in the system message, only the named one when tool_choice names one", () => {
    const spec: ToolsSpec = {
      kind: "tools",
      tools: [{ name: "a", description: "Does a", parameters: { type: "object", properties: {} } }, { name: "b", parameters: { type: "object", properties: {} } }],
      choice: { name: "b" },
      parallel: true,
    };
    const [system, user] = withToolsShown([{ role: "system", content: "Be brief." }, { role: "user", content: "x" }], spec);
    expect(system!.content).toMatch(/^Be brief\.\n\n# Tools\n/);
    expect(system!.content).toContain('{"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{}}}}');
    expect(system!.content).not.toContain('"name":"a"');
    expect(system!.content).toMatch(/Call b now\.$/);
    expect(user).toEqual({ role: "user", content: "x" });
    expect(withToolsShown([{ role: "user", content: "x" }], { ...spec, choice: "auto" })[0]!.content).toMatch(/^# Tools\n[\s\S]*"name":"a","description":"Does a"[\s\S]*<\/tool_call>$/);
  });
});
