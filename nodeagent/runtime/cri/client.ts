/**
 * A thin typed client of CRI v1 (RuntimeService + ImageService) over containerd's unix socket.
 * Why @grpc/grpc-js: CRI is gRPC only; the dependency stays behind this file (STYLE rule 15).
 * Every call carries an explicit deadline (criLimits), never the library's infinite default.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { criProtoText } from './cri-proto.js';
import { CriCallError } from './errors.js';
import { criLimits } from './limits.js';
import { imageServiceMethods, type CriMethod, type CriMethods } from './wire.js';

type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;
type ServiceClient = grpc.Client & Record<string, UnaryMethod>;
type ServiceConstructor = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => ServiceClient;

let loaded: { runtime: ServiceConstructor; image: ServiceConstructor } | null = null;

/** proto-loader reads files only: the proto text goes to a content-named file once per host. */
function loadServices(): { runtime: ServiceConstructor; image: ServiceConstructor } {
  if (loaded) return loaded;
  const digest = createHash('sha256').update(criProtoText).digest('hex').slice(0, 16);
  const directory = join(tmpdir(), 'kubus-cri-proto');
  const file = join(directory, `cri-v1-${digest}.proto`);
  if (!existsSync(file)) {
    mkdirSync(directory, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, criProtoText);
    // A rename is atomic: a concurrent loader sees the whole file or none.
    renameSync(temporary, file);
  }
  const definition = protoLoader.loadSync(file, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
  const root = grpc.loadPackageDefinition(definition) as unknown as { runtime: { v1: { RuntimeService: ServiceConstructor; ImageService: ServiceConstructor } } };
  loaded = { runtime: root.runtime.v1.RuntimeService, image: root.runtime.v1.ImageService };
  return loaded;
}

export class CriClient {
  private readonly runtimeService: ServiceClient;
  private readonly imageService: ServiceClient;

  constructor(readonly socket: string) {
    const services = loadServices();
    const options: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': criLimits.grpcMessageBytesMax,
      'grpc.max_send_message_length': criLimits.grpcMessageBytesMax,
    };
    const address = `unix://${socket}`;
    this.runtimeService = new services.runtime(address, grpc.credentials.createInsecure(), options);
    this.imageService = new services.image(address, grpc.credentials.createInsecure(), options);
  }

  /** One unary call with a deadline; gRPC failures become CriCallError (`notFound` for NOT_FOUND). */
  call<M extends CriMethod>(method: M, request: CriMethods[M][0], deadlineMs: number = criLimits.callDeadlineMs): Promise<CriMethods[M][1]> {
    const service = imageServiceMethods.has(method) ? this.imageService : this.runtimeService;
    const fn = service[method];
    if (typeof fn !== 'function') throw new CriCallError(method, 12, 'method missing from the loaded proto', this.socket);
    return new Promise((resolve, reject) => {
      fn.call(service, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error) reject(new CriCallError(method, error.code, error.details || error.message, this.socket));
        else resolve(response as CriMethods[M][1]);
      });
    });
  }

  close(): void {
    this.runtimeService.close();
    this.imageService.close();
  }
}
