import { watch, type FSWatcher } from "node:fs";
import { describeChange, descriptorIdentity, pathIdentity, sameFile, sameIdentity, type FileIdentity } from "../../models/file-identity.js";

export interface LoadedFileWatchOptions {
  /** The descriptor the model was loaded from. */
  fd: number;
  /** Its pinned path. */
  path: string;
  /** What the descriptor (and so the path) was when the file was verified. */
  identity: FileIdentity;
  /** How often the identities are read again, besides inotify's prompt notices. */
  intervalMs: number;
  /** Told of each change seen, in words; the next look waits until it has settled. */
  onChange: (detail: string) => Promise<void> | void;
}

export interface LoadedFileWatch {
  close(): void;
}

/**
 * Notices when the file a model host loaded, or what its pinned path names, changes after the load. inotify
 * (fs.watch) reports a write(2) at once, but not a write through another process's shared mapping of the file, nor
 * a rename of another file over the path (the watch follows the inode). So the identities are also read every
 * `intervalMs`: a mapped write moves the loaded file's ctime, a rename changes the inode the path names.
 */
export function watchLoadedFile(options: LoadedFileWatchOptions): LoadedFileWatch {
  let loaded = options.identity;
  let named: FileIdentity | null = options.identity;
  let closed = false;
  let looking = false;
  let lookAgain = false;

  const changes = (): string[] => {
    const loadedNow = descriptorIdentity(options.fd);
    const namedNow = pathIdentity(options.path);
    const seen: string[] = [];
    if (!sameIdentity(loaded, loadedNow)) seen.push(`the loaded file: ${describeChange(loaded, loadedNow)}`);
    if (namedNow === null && named !== null) seen.push(`${options.path} no longer names a file`);
    else if (namedNow !== null && (named === null || !sameFile(named, namedNow))) seen.push(`${options.path} now names another file`);
    // Another file at the path, written into after it got there: the next load would read it.
    else if (namedNow !== null && named !== null && !sameFile(namedNow, loadedNow) && !sameIdentity(named, namedNow)) {
      seen.push(`the file ${options.path} names now: ${describeChange(named, namedNow)}`);
    }
    loaded = loadedNow;
    named = namedNow;
    return seen;
  };

  const look = async (): Promise<void> => {
    if (closed) return;
    // One look at a time: a burst of inotify events while the last change is handled (hashed) becomes one more look.
    if (looking) {
      lookAgain = true;
      return;
    }
    looking = true;
    try {
      do {
        lookAgain = false;
        const seen = changes();
        if (seen.length > 0 && !closed) await options.onChange(seen.join("; "));
      } while (lookAgain && !closed);
    } finally {
      looking = false;
    }
  };
  const lookSafely = () => void look().catch((error: unknown) => console.error(`watching ${options.path} failed: ${(error as Error)?.message ?? String(error)}`));

  const timer = setInterval(lookSafely, options.intervalMs);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.path, { persistent: false }, lookSafely);
    // A watch that fails later (the file gone) leaves the poll, which sees that too.
    watcher.on("error", () => watcher?.close());
  } catch {
    // No inotify here (or no file by that name any more): the poll alone notices.
  }
  return {
    close() {
      closed = true;
      clearInterval(timer);
      watcher?.close();
    },
  };
}
