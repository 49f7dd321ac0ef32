/** The registry: which resources exist, and how their objects are stored, listed and watched. */
export {
  resources, findResource, findByKind, apiGroups, apiVersionOf, parseApiVersion, type ResourceInfo,
} from './resources.js';
export {
  parseLabelSelector, matchLabels, formatLabelSelector, parseFieldSelector, matchFields, fieldValue, supportedFields,
  parseObjectSelector, matchesSelector, isEverything,
  type LabelRequirement, type LabelSelector, type FieldRequirement, type FieldSelector, type ObjectSelector,
} from './selectors.js';
export {
  ObjectStore, defaultNamespaces, rfc3339Seconds,
  type ObjectStoreOptions, type ListOptions, type ListResult, type UpdateOptions, type DeleteOptions, type DeleteResult,
} from './object-store.js';
export type { WatchOptions, WatchSink } from './object-watch.js';
export { translateWatchEvent, bookmarkEvent, type ObjectWatchEvent, type WatchEventType } from './watch-translator.js';
export { mergeForUpdate, specChanged, jsonEqual, deletionComplete } from './object-merge.js';
export { objectKey, listPrefix } from './storage-codec.js';
export { toApiError } from './store-errors.js';
export { objectStoreLimits } from './limits.js';
