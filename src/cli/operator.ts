/**
 * Who acts at the console, as audit events name them: `cli:<login>`. Not authenticated (whoever runs the CLI on
 * the host already holds the database and the keys); recorded so a console action is told apart from an API call.
 */
export function consoleOperator(): string {
  return `cli:${process.env["USER"] ?? process.env["LOGNAME"] ?? "unknown"}`.replace(/[^a-zA-Z0-9._@:-]/g, "_").slice(0, 128);
}
