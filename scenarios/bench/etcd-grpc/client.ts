/**
 * The store benchmark's etcd client: etcd's native gRPC API (KV.Put, KV.Range, Maintenance.Status)
 * over @grpc/grpc-js, the way etcd's own Go client talks to it, so the comparison with kubus does
 * not charge etcd for its JSON gateway.
 *
 * Decision (fairness, issue 14 §1): one unary call per operation; no client retries (grpc-js's
 * transparent retries are switched off too); a deadline on every call; one channel per member;
 * requests spread round-robin over members whose connection is up, like clientv3's balancer.
 * Writes sent to a follower are forwarded to the leader by etcd itself, as in production.
 * Why @grpc/grpc-js: already a dependency (the CRI client); etcd speaks gRPC only (besides the gateway).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { KubusError, type ErrorFields } from '../../../bus/errors.js';
import { etcdProtoText } from './etcd-proto.js';

type Callback = (error: grpc.ServiceError | null, response: unknown) => void;
type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback) => void;
type ServiceClient = grpc.Client & Record<string, UnaryMethod>;
type ServiceConstructor = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => ServiceClient;

export const etcdClientLimits = {
  /** Per call, like an etcd client's request timeout: a call stuck on a dead leader gives up and the caller moves on. */
  callDeadlineMs: 2_000,
  /** Responses here are one key or a status; 4 MiB is grpc-js's default and etcd's request bound (--max-request-bytes is 1.5 MiB). */
  messageBytesMax: 4 * 1024 * 1024,
} as const;

/** An etcd call failed: which call, on which member, etcd's gRPC status and message. */
export class EtcdCallError extends KubusError {
  override readonly name = 'EtcdCallError';
  readonly code = 'etcdCall';
  constructor(readonly method: string, readonly member: string, readonly grpcCode: number, readonly details: string) {
    super(`etcd ${method} on ${member} failed (gRPC status ${grpcCode}): ${details}`);
  }
  override fields(): ErrorFields {
    return { method: this.method, member: this.member, grpcCode: this.grpcCode, details: this.details };
  }
}

export interface EtcdEndpoint {
  readonly name: string;
  /** host:port of the member's client URL. */
  readonly address: string;
}

export interface EtcdMemberStatus {
  /** uint64 ids as decimal strings: JavaScript numbers would round them. */
  readonly memberId: string;
  readonly leaderId: string;
}

let loaded: { kv: ServiceConstructor; maintenance: ServiceConstructor } | null = null;

/** proto-loader reads files only: the proto text goes to a content-named file once per host. */
function loadServices(): { kv: ServiceConstructor; maintenance: ServiceConstructor } {
  if (loaded !== null) return loaded;
  const digest = createHash('sha256').update(etcdProtoText).digest('hex').slice(0, 16);
  const directory = join(tmpdir(), 'kubus-etcd-proto');
  const file = join(directory, `etcdserverpb-${digest}.proto`);
  if (!existsSync(file)) {
    mkdirSync(directory, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, etcdProtoText);
    // A rename is atomic: a concurrent loader sees the whole file or none.
    renameSync(temporary, file);
  }
  const definition = protoLoader.loadSync(file, { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  const root = grpc.loadPackageDefinition(definition) as unknown as { etcdserverpb: { KV: ServiceConstructor; Maintenance: ServiceConstructor } };
  loaded = { kv: root.etcdserverpb.KV, maintenance: root.etcdserverpb.Maintenance };
  return loaded;
}

interface MemberChannel {
  readonly endpoint: EtcdEndpoint;
  readonly kv: ServiceClient;
  readonly maintenance: ServiceClient;
}

export class EtcdGrpcClient {
  private readonly channels: MemberChannel[];
  private next = 0;

  constructor(endpoints: readonly EtcdEndpoint[]) {
    const services = loadServices();
    const options: grpc.ChannelOptions = {
      'grpc.enable_retries': 0,
      'grpc.max_receive_message_length': etcdClientLimits.messageBytesMax,
      'grpc.max_send_message_length': etcdClientLimits.messageBytesMax,
    };
    this.channels = endpoints.map((endpoint) => {
      const kv = new services.kv(endpoint.address, grpc.credentials.createInsecure(), options);
      // The maintenance service shares the KV client's channel: one connection per member.
      const maintenance = new services.maintenance(endpoint.address, grpc.credentials.createInsecure(), { ...options, channelOverride: kv.getChannel() });
      // Connect every member now: round-robin only picks members whose connection is up.
      kv.getChannel().getConnectivityState(true);
      return { endpoint, kv, maintenance };
    });
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.call(this.pick(), 'kv', 'Put', { key: Buffer.from(key), value });
  }

  /** A linearizable read of one key (etcd's default: serializable false). */
  async range(key: string): Promise<void> {
    await this.call(this.pick(), 'kv', 'Range', { key: Buffer.from(key) });
  }

  /** One member's view: its id and the leader it knows (to find and kill the leader). */
  async status(member: string): Promise<EtcdMemberStatus> {
    const channel = this.channels.find((c) => c.endpoint.name === member);
    if (channel === undefined) throw new Error(`etcd client: no member ${member}`);
    const response = (await this.call(channel, 'maintenance', 'Status', {})) as { header?: { memberId?: string }; leader?: string };
    return { memberId: response.header?.memberId ?? '0', leaderId: response.leader ?? '0' };
  }

  close(): void {
    // Closing the KV client closes the channel the maintenance client shares.
    for (const channel of this.channels) channel.kv.close();
  }

  /**
   * Round-robin over members whose connection is up (READY), as gRPC's round_robin policy under
   * clientv3 does; a channel that is not up is asked to connect, so a restarted member rejoins the
   * rotation. With none up, plain round-robin: the call fails fast or waits for its connection.
   */
  private pick(): MemberChannel {
    const count = this.channels.length;
    for (let tries = 0; tries < count; tries++) {
      const channel = this.channels[this.next++ % count] as MemberChannel;
      if (channel.kv.getChannel().getConnectivityState(true) === grpc.connectivityState.READY) return channel;
    }
    return this.channels[this.next++ % count] as MemberChannel;
  }

  private call(channel: MemberChannel, service: 'kv' | 'maintenance', method: string, request: unknown): Promise<unknown> {
    const client = channel[service];
    const fn = client[method] as UnaryMethod;
    return new Promise((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + etcdClientLimits.callDeadlineMs }, (error, response) => {
        if (error !== null) reject(new EtcdCallError(method, channel.endpoint.name, error.code, error.details || error.message));
        else resolve(response);
      });
    });
  }
}
