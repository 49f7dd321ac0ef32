/** The assignment client's operating errors. */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

/** The API kept handing out continue tokens past `listPagesMax` pages: the list is given up and retried with backoff. */
export class AssignmentListTooLongError extends KubusError {
  override readonly name = 'AssignmentListTooLongError';
  readonly code = 'assignmentListTooLong';
  constructor(readonly nodeName: string, readonly pagesMax: number) {
    super(`listing the pods of node ${nodeName} took more than ${pagesMax} pages (assignmentClientLimits.listPagesMax); the API's continue tokens may be looping`);
  }
  override fields(): ErrorFields {
    return { nodeName: this.nodeName, pagesMax: this.pagesMax };
  }
}
