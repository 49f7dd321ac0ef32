// What the container-runtime suites (issue 13: cri, docker, the e2e acceptance files) need on the
// host, made present before `npm test` starts: a Docker Engine that answers, containerd and ctr,
// the CNI plugins in /usr/lib/cni, a static busybox and gcc with a static libc (the local images
// are built from them). As root, missing packages are installed with apt-get (as run-all.mjs does
// for nats-server) and dockerd is started in the background when no engine answers; without root
// this names the command. Then, under CI=true a still-missing one fails the run (nothing may skip);
// otherwise the suites that need it skip with a message.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** dockerd answers in ≈0.3 s here; 60 s covers a cold, loaded host (same bound as .ci/run). */
const dockerdStartMs = 60_000;
/** `docker info` on a loaded host's engine is slow to list, never this slow. */
const dockerInfoMs = 20_000;

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

/** gcc -static needs libc.a (libc6-dev). */
function staticLibc() {
  return ['/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib/aarch64-linux-gnu/libc.a', '/usr/lib/libc.a'].some((path) => existsSync(path));
}

function dockerAnswers() {
  return have('docker') && spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: dockerInfoMs }).status === 0;
}

const checks = [
  { what: 'the Docker Engine (dockerd, docker)', ok: () => have('dockerd') && have('docker'), packages: ['docker.io'] },
  { what: 'containerd and ctr', ok: () => have('containerd') && have('ctr'), packages: ['containerd'] },
  { what: 'the CNI plugins in /usr/lib/cni (bridge, host-local, portmap, loopback)', ok: () => ['bridge', 'host-local', 'portmap', 'loopback'].every((p) => executable(`/usr/lib/cni/${p}`)), packages: ['containernetworking-plugins'] },
  { what: 'a static busybox (/bin/busybox)', ok: staticBusybox, packages: ['busybox-static'] },
  { what: 'gcc with a static libc (the pause image is compiled with gcc -static)', ok: () => have('gcc') && staticLibc(), packages: ['gcc', 'libc6-dev'] },
];

function aptInstall(packages) {
  console.log(`test: installing ${packages.join(' ')} with apt-get (the container runtime suites need them)`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Starts dockerd detached (it outlives npm test, as a system service would) and waits, bounded, for it to answer. */
async function startDockerd() {
  const log = join(tmpdir(), 'kubus-test-dockerd.log');
  console.log(`test: no Docker Engine answers; starting dockerd in the background (log ${log})`);
  const out = openSync(log, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  const deadline = Date.now() + dockerdStartMs;
  while (Date.now() < deadline) {
    if (dockerAnswers()) return true;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`test: dockerd did not answer within ${dockerdStartMs / 1000} s; its log ends:\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
  return false;
}

/**
 * Returns false when a prerequisite is missing under CI (the caller exits 1). As root it first
 * installs what is missing and starts dockerd; otherwise it prints the commands.
 */
export async function checkRuntimePrerequisites(ci) {
  const root = process.getuid?.() === 0;
  const absent = checks.filter((check) => !check.ok());
  if (absent.length > 0 && root) aptInstall([...new Set(absent.flatMap((check) => check.packages))]);
  const missing = checks.filter((check) => !check.ok()).map((check) => ({ what: check.what, fix: `apt-get install -y ${check.packages.join(' ')}` }));
  if (have('dockerd') && !dockerAnswers()) {
    const started = root ? await startDockerd() : false;
    if (!started) missing.push({ what: 'a Docker Engine answering (docker info)', fix: 'start it: dockerd & (or systemctl start docker), as root' });
  }
  if (missing.length === 0) return true;
  const lines = missing.map((m) => `  - ${m.what}: ${m.fix}`);
  if (ci) {
    console.error(`test: the container runtime suites need, and CI=true forbids skipping them:\n${lines.join('\n')}\n(.ci/run installs and starts all of these)`);
    return false;
  }
  console.warn(`test: missing for the container runtime suites (they will skip):\n${lines.join('\n')}`);
  return true;
}
