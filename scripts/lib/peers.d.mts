export declare const PEERS: Record<"litellm" | "portkey", { version: string }>;
export declare function peerPaths(name: "litellm" | "portkey"): { home: string; dir: string; entry: string; marker: string };
