/** kubectl 1.32's CertificateSigningRequest columns (printCertificateSigningRequest). */
import { age, humanDuration } from './table-age.js';
import type { Column, Printer } from './table-printers.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const column = (name: string, description: string): Column => ({ name, type: 'string', format: name === 'Name' ? 'name' : '', description, priority: 0 });

/** `Approved,Issued`, `Pending`, as kubectl's extractCSRStatus words it. */
function condition(status: Obj): string {
  const types = (Array.isArray(status['conditions']) ? status['conditions'] : []).map(obj)
    .filter((c) => c['status'] === undefined || c['status'] === 'True').map((c) => str(c['type'])).filter((t) => t !== '');
  const issued = str(status['certificate']) !== '';
  if (types.length === 0) return issued ? 'Issued' : 'Pending';
  return issued ? [...types, 'Issued'].join(',') : types.join(',');
}

/** spec.expirationSeconds as kubectl prints it (`365d`, `10m`), `<none>` when not asked for. */
function requestedDuration(spec: Obj): string {
  const seconds = spec['expirationSeconds'];
  return typeof seconds === 'number' ? humanDuration(seconds * 1000) : '<none>';
}

export const certificateSigningRequestPrinter: Printer = {
  columns: [column('Name', 'Name must be unique within a namespace.'), column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
    column('SignerName', 'Signer of the certificate.'), column('Requestor', 'Name of the user who made the request.'),
    column('RequestedDuration', 'Requested lifetime of the certificate.'), column('Condition', 'Approval condition and issuance.')],
  cells: (o, now) => {
    const spec = obj(o['spec']);
    return [str(o.metadata?.name), age(o.metadata?.creationTimestamp, now), str(spec['signerName']), str(spec['username']),
      requestedDuration(spec), condition(obj(o['status']))];
  },
};
