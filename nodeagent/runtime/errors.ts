/**
 * Operating errors of the container runtimes: one class per kind, each with a stable `code` and
 * the fields a pod worker (or a user reading the pod's events) needs to act.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

/** The runtime cannot do this yet (interactive exec, port-forward: issue 13) or at all. */
export class RuntimeUnsupportedError extends KubusError {
  override readonly name = 'RuntimeUnsupportedError';
  readonly code = 'runtimeUnsupported';
  constructor(readonly runtime: string, readonly operation: string, readonly hint: string) {
    super(`the ${runtime} runtime does not support ${operation} yet: ${hint}`);
  }
  override fields(): ErrorFields {
    return { runtime: this.runtime, operation: this.operation, hint: this.hint };
  }
}

/** `createRuntime` was asked for a runtime this build does not have. */
export class UnknownRuntimeError extends KubusError {
  override readonly name = 'UnknownRuntimeError';
  readonly code = 'unknownRuntime';
  constructor(readonly runtime: string, readonly known: readonly string[]) {
    super(`unknown runtime ${JSON.stringify(runtime)}; use one of ${known.join(', ')} (--runtime)`);
  }
  override fields(): ErrorFields {
    return { runtime: this.runtime, known: this.known };
  }
}

export class SandboxNotFoundError extends KubusError {
  override readonly name = 'SandboxNotFoundError';
  readonly code = 'sandboxNotFound';
  constructor(readonly sandboxId: string) {
    super(`no pod sandbox ${sandboxId} in this runtime (removed, or made by another runtime directory)`);
  }
  override fields(): ErrorFields {
    return { sandboxId: this.sandboxId };
  }
}

export class ContainerNotFoundError extends KubusError {
  override readonly name = 'ContainerNotFoundError';
  readonly code = 'containerNotFound';
  constructor(readonly containerId: string) {
    super(`no container ${containerId} in this runtime (removed, or made by another runtime directory)`);
  }
  override fields(): ErrorFields {
    return { containerId: this.containerId };
  }
}

/** An operation that needs another state (start of a container already started, ...). */
export class ContainerStateError extends KubusError {
  override readonly name = 'ContainerStateError';
  readonly code = 'containerState';
  constructor(readonly containerId: string, readonly state: string, readonly operation: string) {
    super(`cannot ${operation} container ${containerId}: it is ${state}`);
  }
  override fields(): ErrorFields {
    return { containerId: this.containerId, state: this.state, operation: this.operation };
  }
}

/** The process runtime knows no image entrypoint: a container must name its command. */
export class ContainerCommandMissingError extends KubusError {
  override readonly name = 'ContainerCommandMissingError';
  readonly code = 'containerCommandMissing';
  constructor(readonly container: string) {
    super(`container ${container} has no command: the process runtime does not read images, set command (and args)`);
  }
  override fields(): ErrorFields {
    return { container: this.container };
  }
}

/** The node has no `spec.podCIDR` yet (the control plane allocates it): retry once the Node has one. */
export class PodCidrUnavailableError extends KubusError {
  override readonly name = 'PodCidrUnavailableError';
  readonly code = 'podCidrUnavailable';
  constructor() {
    super('the node has no pod CIDR yet (spec.podCIDR is allocated by the control plane\'s node IPAM); the sandbox is retried once it has one');
  }
}

export class InvalidPodCidrError extends KubusError {
  override readonly name = 'InvalidPodCidrError';
  readonly code = 'invalidPodCidr';
  constructor(readonly cidr: string) {
    super(`pod CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR such as 127.64.1.0/24`);
  }
  override fields(): ErrorFields {
    return { cidr: this.cidr };
  }
}

/** Every address of the node's pod CIDR is held by a sandbox. */
export class PodIpExhaustedError extends KubusError {
  override readonly name = 'PodIpExhaustedError';
  readonly code = 'podIpExhausted';
  constructor(readonly cidr: string, readonly assigned: number) {
    super(`all ${assigned} pod addresses of ${cidr} are in use; remove pods or give the node a larger pod CIDR`);
  }
  override fields(): ErrorFields {
    return { cidr: this.cidr, assigned: this.assigned };
  }
}

/** The runtime already tracks its bound of containers (limits.ts `containersMax`): remove exited ones first. */
export class ContainerCapacityError extends KubusError {
  override readonly name = 'ContainerCapacityError';
  readonly code = 'containerCapacity';
  constructor(readonly containersMax: number) {
    super(`this runtime already holds ${containersMax} containers; remove exited containers before creating more`);
  }
  override fields(): ErrorFields {
    return { containersMax: this.containersMax };
  }
}

/** A port-forward could not connect to the pod's port (nothing listens, or the sandbox has no address). */
export class PortForwardError extends KubusError {
  override readonly name = 'PortForwardError';
  readonly code = 'portForward';
  constructor(readonly sandboxId: string, readonly address: string, readonly port: number, readonly reason: string) {
    super(`cannot forward to port ${port} of sandbox ${sandboxId} at ${address}: ${reason}`);
  }
  override fields(): ErrorFields {
    return { sandboxId: this.sandboxId, address: this.address, port: this.port, reason: this.reason };
  }
}

export type ImagePullErrorReason = 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName';

/** An image could not be made present; `reason` is the container's waiting reason (the kubelet backs off to ImagePullBackOff). */
export class ImagePullError extends KubusError {
  override readonly name = 'ImagePullError';
  readonly code = 'imagePull';
  constructor(readonly image: string, readonly reason: ImagePullErrorReason, readonly detail: string) {
    super(`${reason}: image ${JSON.stringify(image)}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { image: this.image, reason: this.reason, detail: this.detail };
  }
}

/** A runtime's daemon (containerd, dockerd) cannot be reached or started; says where it looked. */
export class RuntimeUnavailableError extends KubusError {
  override readonly name = 'RuntimeUnavailableError';
  readonly code = 'runtimeUnavailable';
  constructor(readonly runtime: string, readonly endpoint: string, readonly detail: string) {
    super(`the ${runtime} runtime is not available at ${endpoint}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { runtime: this.runtime, endpoint: this.endpoint, detail: this.detail };
  }
}
