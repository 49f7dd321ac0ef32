/**
 * The interaction-script language (after etcd raft's testdata). Each command acts on an in-memory
 * cluster and returns the text it produced; the runner compares it with the expected block.
 *
 *   add-nodes N voters=(1,2,3) [learners=(4)] [prevote=true] [checkquorum=true] [inflight=N] [uncommitted=N] [appendbytes=N]
 *   campaign X            tick X until it leaves the follower role (bounded)
 *   tick X [N]  |  tick-heartbeat X  |  tick-election X   (2*electionTicks-1 ticks: certainly one timeout, never two)
 *   process-ready [X...]  perform each node's Ready; its messages enter the network
 *   deliver-msgs [X...]   deliver queued messages to X (all when omitted); partitioned ones are dropped
 *   stabilize [X...]      repeat process-ready and deliver-msgs until nothing moves
 *   propose X DATA  |  propose-conf-change X addLearner|promote|remove Y  |  read-index X CTX
 *   transfer-leader X Y  |  compact X INDEX  |  restart X  |  drop-msgs [X...]
 *   partition 1 2 | 3     only members of the same group talk; `heal` ends it
 *   status X  |  log X
 * Members are named by number (1 -> s1). Errors thrown by the core are printed, not raised.
 */
import { KubusError } from '../../bus/errors.js';
import type { ConfChangeType, Message } from '../../store/raft/index.js';
import { bytes, defaultNodeOptions, describeConf, describeEntry, describeMessage, describeReady, SimNode, type NodeOptions } from './cluster.js';

export class InteractionEnv {
  readonly nodes = new Map<string, SimNode>();
  private queue: Message[] = [];
  private groups: string[][] | null = null;

  run(line: string): string {
    const [command, ...args] = line.trim().split(/\s+/);
    try {
      const out = this.dispatch(command ?? '', args);
      return out.length === 0 ? 'ok' : out.join('\n');
    } catch (error) {
      if (error instanceof KubusError) return `error: ${error.name}: ${error.message}`;
      throw error;
    }
  }

  private dispatch(command: string, args: string[]): string[] {
    const ids = args.map(memberId);
    switch (command) {
      case 'add-nodes':
        return this.addNodes(args);
      case 'campaign':
        return this.campaign(this.node(args[0]));
      case 'tick':
        return this.tick(this.node(args[0]), Number(args[1] ?? 1));
      case 'tick-heartbeat':
        return this.tick(this.node(args[0]), defaultNodeOptions.heartbeatTicks);
      case 'tick-election':
        return this.tick(this.node(args[0]), 2 * defaultNodeOptions.electionTicks - 1);
      case 'process-ready':
        return this.processReady(ids.length > 0 ? ids : [...this.nodes.keys()]);
      case 'deliver-msgs':
        return this.deliver(ids.length > 0 ? ids : null);
      case 'stabilize':
        return this.stabilize(ids.length > 0 ? ids : [...this.nodes.keys()]);
      case 'propose': {
        const ticket = this.node(args[0]).node.propose(bytes(args[1] ?? ''));
        return [`proposed index=${ticket.index} term=${ticket.term}`];
      }
      case 'propose-conf-change': {
        const ticket = this.node(args[0]).node.proposeConfChange({ type: args[1] as ConfChangeType, member: memberId(args[2] ?? '') });
        return [`proposed index=${ticket.index} term=${ticket.term}`];
      }
      case 'read-index':
        this.node(args[0]).node.readIndex(args[1] ?? '');
        return [];
      case 'transfer-leader':
        this.node(args[0]).node.transferLeadership(memberId(args[1] ?? ''));
        return [];
      case 'compact': {
        const snapshot = this.node(args[0]).compact(Number(args[1]));
        return [`snapshot index=${snapshot.meta.index} term=${snapshot.meta.term} ${describeConf(snapshot.meta.conf)}`];
      }
      case 'restart':
        this.node(args[0]).restart();
        return [];
      case 'drop-msgs':
        return this.drop(ids.length > 0 ? ids : null);
      case 'partition':
        this.groups = args.join(' ').split('|').map((group) => group.trim().split(/\s+/).filter((s) => s !== '').map(memberId));
        return [];
      case 'heal':
        this.groups = null;
        return [];
      case 'status':
        return this.status(this.node(args[0]));
      case 'log':
        return this.log(this.node(args[0]));
      default:
        throw new Error(`unknown command ${command}`);
    }
  }

  private node(arg: string | undefined): SimNode {
    const node = this.nodes.get(memberId(arg ?? ''));
    if (node === undefined) throw new Error(`no member ${arg}`);
    return node;
  }

  private addNodes(args: string[]): string[] {
    const count = Number(args[0]);
    const options: Record<string, string> = {};
    for (const arg of args.slice(1)) {
      const [key, value] = arg.split('=');
      options[key ?? ''] = value ?? '';
    }
    const list = (value: string | undefined): string[] => (value ?? '()').replace(/[()]/g, '').split(',').filter((s) => s !== '').map(memberId);
    const nodeOptions: NodeOptions = {
      ...defaultNodeOptions,
      preVote: options['prevote'] === 'true',
      checkQuorum: options['checkquorum'] === 'true',
      ...(options['inflight'] ? { inflightAppendsMax: Number(options['inflight']) } : {}),
      ...(options['uncommitted'] ? { uncommittedBytesMax: Number(options['uncommitted']) } : {}),
      ...(options['appendbytes'] ? { appendBytesMax: Number(options['appendbytes']) } : {}),
    };
    const conf = { voters: list(options['voters']), learners: list(options['learners']) };
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `s${this.nodes.size + 1}`;
      this.nodes.set(id, new SimNode(id, conf, nodeOptions, this.nodes.size + 1));
      out.push(`${id}: ${describeConf(conf)}`);
    }
    return out;
  }

  private campaign(sim: SimNode): string[] {
    for (let i = 0; i < 2 * defaultNodeOptions.electionTicks && sim.node.status().role === 'follower'; i++) sim.node.tick();
    return [`${sim.id}: role=${sim.node.status().role} term=${sim.node.status().term}`];
  }

  private tick(sim: SimNode, count: number): string[] {
    for (let i = 0; i < count; i++) sim.node.tick();
    return [];
  }

  private processReady(ids: readonly string[]): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const sim = this.nodes.get(id);
      if (sim === undefined) continue;
      for (let round = 0; round < 100 && sim.node.hasReady(); round++) {
        const ready = sim.handleReady();
        out.push(...describeReady(id, ready));
        this.queue.push(...ready.messages);
      }
    }
    return out;
  }

  private canTalk(a: string, b: string): boolean {
    if (this.groups === null) return true;
    return this.groups.some((group) => group.includes(a) && group.includes(b));
  }

  private deliver(to: readonly string[] | null): string[] {
    const out: string[] = [];
    const now = this.queue.filter((m) => to === null || to.includes(m.to));
    this.queue = this.queue.filter((m) => !now.includes(m));
    for (const m of now) {
      const receiver = this.nodes.get(m.to);
      const sender = this.nodes.get(m.from);
      if (receiver === undefined || !this.canTalk(m.from, m.to)) {
        out.push(`dropped: ${describeMessage(m)}`);
        if (m.type === 'snapshot') sender?.node.reportSnapshot(m.to, false);
        continue;
      }
      receiver.node.step(m);
      // The transport reports a delivered snapshot, as raft-transport does.
      if (m.type === 'snapshot') sender?.node.reportSnapshot(m.to, true);
    }
    return out;
  }

  private drop(to: readonly string[] | null): string[] {
    const dropped = this.queue.filter((m) => to === null || to.includes(m.to));
    this.queue = this.queue.filter((m) => !dropped.includes(m));
    return dropped.map((m) => `dropped: ${describeMessage(m)}`);
  }

  private stabilize(ids: readonly string[]): string[] {
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      const moved = ids.some((id) => this.nodes.get(id)?.node.hasReady()) || this.queue.some((m) => ids.includes(m.to));
      if (!moved) return out;
      out.push(...this.processReady(ids));
      out.push(...this.deliver(ids));
    }
    throw new Error('stabilize did not settle within 1000 rounds');
  }

  private status(sim: SimNode): string[] {
    const s = sim.node.status();
    const out = [
      `${s.id}: term=${s.term} role=${s.role} leader=${s.leader ?? '-'} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} snapshot=${s.snapshotIndex} ${describeConf(s.conf)}`,
    ];
    if (s.leadTransferee !== null || s.pendingConfChange) out.push(`  transferee=${s.leadTransferee ?? '-'} pendingConfChange=${s.pendingConfChange}`);
    if (s.progress !== null) {
      const active = sim.node.quorumActive();
      out.push(`  quorumActive=${active.reachable}/${active.total}`);
      for (const [member, p] of Object.entries(s.progress)) out.push(`  ${member}: match=${p.match} next=${p.next} ${p.state}`);
    }
    return out;
  }

  private log(sim: SimNode): string[] {
    const snapshot = sim.storage.snapshot;
    return [
      `${sim.id}: snapshot=${snapshot === null ? '-' : `${snapshot.meta.term}/${snapshot.meta.index}`} entries=[${sim.storage.entries.map(describeEntry).join(' ')}]`,
      `  applied=${sim.appliedIndex} data=${JSON.stringify(sim.appliedData)}`,
    ];
  }
}

function memberId(arg: string): string {
  return /^\d+$/.test(arg) ? `s${arg}` : arg;
}

/** Parses a script into blocks of (command, expected output); `#` lines are comments. */
export interface ScriptBlock {
  readonly command: string;
  readonly expected: string;
  readonly line: number;
}

export function parseScript(source: string): ScriptBlock[] {
  const lines = source.split('\n');
  const blocks: ScriptBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    if ((lines[i + 1] ?? '') !== '----') throw new Error(`line ${start}: expected ---- after the command`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] ?? '') !== '') expected.push(lines[i++] ?? '');
    blocks.push({ command: line, expected: expected.join('\n'), line: start });
  }
  return blocks;
}

/** Re-renders a script with new outputs, keeping comments and blank-line layout. */
export function renderScript(source: string, outputs: readonly string[]): string {
  const lines = source.split('\n');
  const result: string[] = [];
  let block = 0;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      result.push(line);
      i++;
      continue;
    }
    result.push(line, '----', outputs[block++] ?? '');
    i += 2;
    while (i < lines.length && (lines[i] ?? '') !== '') i++;
  }
  return result.join('\n');
}
