/**
 * Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with `Accept: ...;as=Table`
 * (K8S-API.md §2.4). Without it kubectl shows only NAME and AGE, so the columns and cell wording
 * follow kubectl's own printers (pkg/printers/internalversion, 1.32); per-kind printers are in
 * table-printers.ts. Time comes in as `now` so cells like AGE are deterministic.
 */
import type { ResourceInfo } from './registry/resources.js';
import { printers, type Column, type Printer } from './table-printers.js';
export { age, humanDuration } from './table-age.js';
import type { KubeObject } from './types.js';

export type { Column } from './table-printers.js';

export interface TableOptions {
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly includeObject: 'None' | 'Metadata' | 'Object';
  /** The time ages are measured against (epoch milliseconds or a Date). */
  readonly now: number | Date;
  /** Watch events after the first leave the column definitions out, as the real server does. */
  readonly omitColumnDefinitions?: boolean;
  /** Passed through for paged lists. */
  readonly remainingItemCount?: number;
}

export interface TableRow {
  readonly cells: unknown[];
  readonly object?: unknown;
}

export interface Table {
  readonly kind: 'Table';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  readonly columnDefinitions?: Column[];
  readonly rows: TableRow[];
}

const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 };

/** The default table for kinds without a printer: Name and the creation timestamp (a `date` column). */
const defaultPrinter: Printer = {
  columns: [nameColumn, { name: 'Created At', type: 'date', format: '', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 }],
  cells: (object) => [object.metadata.name ?? '', object.metadata.creationTimestamp ?? ''],
};

export function printerFor(info: Pick<ResourceInfo, 'group' | 'kind'>): Printer {
  return printers[`${info.group}/${info.kind}`] ?? defaultPrinter;
}

/** Renders `objects` as a Table for `info`'s kind. */
export function toTable(info: ResourceInfo, objects: readonly KubeObject[], opts: TableOptions): Table {
  const printer = printerFor(info);
  const now = typeof opts.now === 'number' ? opts.now : opts.now.getTime();
  const rows = objects.map((object) => {
    const cells = safeCells(printer, object, now);
    const row: TableRow = opts.includeObject === 'None' ? { cells }
      : opts.includeObject === 'Object' ? { cells, object }
        : { cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata } };
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      resourceVersion: opts.resourceVersion,
      ...(opts.continue !== undefined && opts.continue !== '' ? { continue: opts.continue } : {}),
      ...(opts.remainingItemCount !== undefined ? { remainingItemCount: opts.remainingItemCount } : {}),
    },
    ...(opts.omitColumnDefinitions === true ? {} : { columnDefinitions: printer.columns.map((c) => ({ ...c })) }),
    rows,
  };
}

/**
 * A stored object can hold anything a client wrote (status from agents, fields of wrong types), and a
 * get must still print it; a printer failure degrades to the name and placeholders instead of a 500.
 */
function safeCells(printer: Printer, object: KubeObject, now: number): unknown[] {
  try {
    return printer.cells(object, now);
  } catch {
    return printer.columns.map((c, i) => (i === 0 ? object.metadata?.name ?? '' : c.format === 'name' ? object.metadata?.name ?? '' : '<unknown>'));
  }
}
