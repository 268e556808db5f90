export function acquireDirectoryLock(path: string, options: { timeoutMs: number; pollMs: number }): boolean;
