/**
 * Whether an image reference is well formed, as the kubelet checks before any pull
 * (InvalidImageName): the distribution reference grammar ([domain[:port]/]path[:tag][@digest]),
 * written from its published rules.
 */
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*';
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const reference = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`);

/** The distribution spec's bound on a repository name's length. */
const nameCharactersMax = 255;

const pathOnly = new RegExp(`^${pathComponent}$`);

export function isValidImageReference(image: string): boolean {
  const match = reference.exec(image);
  const repository = match?.[1];
  if (repository === undefined || repository.length > nameCharactersMax) return false;
  // A first component without '.' or ':' (and not localhost) is a path, not a registry: lowercase only (Docker's normalization).
  const [first, ...rest] = repository.split('/');
  if (rest.length > 0 && first !== undefined && !/[.:]/.test(first) && first !== 'localhost') return pathOnly.test(first);
  return true;
}
