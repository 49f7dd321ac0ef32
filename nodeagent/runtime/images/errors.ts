/**
 * Errors of the local image builder: each names the package that provides the missing tool,
 * since the fix is always an `apt-get install`.
 */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

/** A tool the builder needs (gcc, a static busybox) is absent or unusable. */
export class ImageBuildToolError extends KubusError {
  override readonly name = 'ImageBuildToolError';
  readonly code = 'imageBuildTool';
  constructor(readonly image: string, readonly tool: string, readonly detail: string, readonly install: string) {
    super(`cannot build ${image}: ${tool} ${detail}; install it with \`${install}\``);
  }
  override fields(): ErrorFields {
    return { image: this.image, tool: this.tool, detail: this.detail, install: this.install };
  }
}

/** A build step failed for a reason other than a missing tool (compile error, unwritable cache). */
export class ImageBuildError extends KubusError {
  override readonly name = 'ImageBuildError';
  readonly code = 'imageBuild';
  constructor(readonly image: string, readonly step: string, readonly detail: string) {
    super(`cannot build ${image}: ${step} failed: ${detail}`);
  }
  override fields(): ErrorFields {
    return { image: this.image, step: this.step, detail: this.detail };
  }
}
