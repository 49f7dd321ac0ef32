// What the container-runtime suites (issue 13: cri, docker, the e2e acceptance files) need on the
// host, checked before `npm test` starts: a Docker Engine that answers, containerd and ctr, the CNI
// plugins in /usr/lib/cni, a static busybox and gcc (the local images are built from them). Under
// CI=true a missing one fails the run (nothing may skip); otherwise the suites that need it skip
// with a message, and this names the apt-get command that installs it.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

function have(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An ELF file with no PT_INTERP program header (64-bit little-endian, what Debian ships). */
function staticBusybox() {
  return ['/bin/busybox', '/usr/bin/busybox'].some((path) => {
    try {
      const b = readFileSync(path);
      if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
      const phoff = Number(b.readBigUInt64LE(0x20));
      const size = b.readUInt16LE(0x36);
      const count = b.readUInt16LE(0x38);
      for (let i = 0; i < count; i += 1) if (b.readUInt32LE(phoff + i * size) === 3) return false;
      return true;
    } catch {
      return false;
    }
  });
}

/** `docker info` answers within 20 s (a loaded host's engine is slow to list, never that slow). */
function dockerAnswers() {
  return have('docker') && spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

const checks = [
  { what: 'a Docker Engine answering (docker info)', ok: dockerAnswers, fix: 'apt-get install -y docker.io, then start it: dockerd & (or systemctl start docker)' },
  { what: 'containerd and ctr', ok: () => have('containerd') && have('ctr'), fix: 'apt-get install -y containerd' },
  { what: 'the CNI plugins in /usr/lib/cni (bridge, host-local, portmap, loopback)', ok: () => ['bridge', 'host-local', 'portmap', 'loopback'].every((p) => executable(`/usr/lib/cni/${p}`)), fix: 'apt-get install -y containernetworking-plugins' },
  { what: 'a static busybox (/bin/busybox)', ok: staticBusybox, fix: 'apt-get install -y busybox-static' },
  { what: 'gcc (the pause image is compiled with gcc -static)', ok: () => have('gcc'), fix: 'apt-get install -y gcc libc6-dev' },
];

/** Returns false when a prerequisite is missing under CI (the caller exits 1); prints what to install either way. */
export function checkRuntimePrerequisites(ci) {
  const missing = checks.filter((check) => !check.ok());
  if (missing.length === 0) return true;
  const lines = missing.map((check) => `  - ${check.what}: ${check.fix}`);
  if (ci) {
    console.error(`test: the container runtime suites need, and CI=true forbids skipping them:\n${lines.join('\n')}\n(.ci/run installs and starts all of these)`);
    return false;
  }
  console.warn(`test: missing for the container runtime suites (they will skip):\n${lines.join('\n')}`);
  return true;
}
