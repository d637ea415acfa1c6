'use strict'
// One table of the platforms cdk-mfa-rs ships, used by build-cross.js, setup-cross.js and the tests.
//   key:    napi's platform-arch-abi, the npm/<key>/ folder and the `cdk-mfa-rs.<key>.node` file name
//   triple: the Rust target built on this machine (`.2.17` = zig pins the glibc floor)
//   how:    'zig'   cargo-zigbuild (napi build -x) with zig as C compiler and linker
//           'mingw' Debian's mingw-w64 as linker (napi's -x would pick cargo-xwin, i.e. MSVC)
//           'check' compiles and lints here (cargo check/clippy) but links only on its own OS,
//                   in the release workflow (Apple's SDK is not available here)
//   release: the triple the release workflow builds when it differs from the one built here
//   here:   how this machine tests it: 'native', 'qemu', 'wine', 'musl-loader' or null

const PLATFORMS = [
  { key: 'linux-x64-gnu', triple: 'x86_64-unknown-linux-gnu.2.17', how: 'zig', glibc: '2.17', here: 'native' },
  { key: 'linux-arm64-gnu', triple: 'aarch64-unknown-linux-gnu.2.17', how: 'zig', glibc: '2.17', here: 'qemu' },
  { key: 'linux-x64-musl', triple: 'x86_64-unknown-linux-musl', how: 'zig', here: 'musl-loader' },
  { key: 'linux-arm64-musl', triple: 'aarch64-unknown-linux-musl', how: 'zig', here: 'musl-loader' },
  // napi's loader looks for `win32-x64-msvc` on an ordinary (MSVC-built) Node; a mingw-built DLL
  // loads there just the same. The release workflow builds it with MSVC on a Windows runner.
  { key: 'win32-x64-msvc', triple: 'x86_64-pc-windows-gnu', how: 'mingw', release: 'x86_64-pc-windows-msvc', here: 'wine' },
  { key: 'darwin-x64', triple: 'x86_64-apple-darwin', how: 'check', here: null },
  { key: 'darwin-arm64', triple: 'aarch64-apple-darwin', how: 'check', here: null },
]

/** The Rust target without zig's glibc suffix (what rustup and cargo's target dir know). */
function rustTarget(p) {
  return p.triple.replace(/\.\d+\.\d+$/, '')
}

function byKey(key) {
  const p = PLATFORMS.find((x) => x.key === key)
  if (!p) throw new Error(`unknown platform ${key} (known: ${PLATFORMS.map((x) => x.key).join(', ')})`)
  return p
}

const BUILT_HERE = PLATFORMS.filter((p) => p.how !== 'check')

// Size limit per .node (stripped, LTO release build).
const MAX_NODE_BYTES = 8 * 1024 * 1024

module.exports = { PLATFORMS, BUILT_HERE, byKey, rustTarget, MAX_NODE_BYTES }
