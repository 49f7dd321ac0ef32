/**
 * `$(VAR)` expansion in env values, command and args, by Kubernetes' rules
 * (third_party/forked/golang/expansion): `$(NAME)` becomes NAME's value when NAME is defined,
 * and stays as written when it is not; `$$` is an escaped `$`; a `$` followed by anything else,
 * or a `$(` never closed, stays literally.
 */
export function expandVariables(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let index = 0;
  while (index < input.length) {
    const char = input[index];
    if (char !== '$' || index + 1 >= input.length) {
      out += char;
      index += 1;
      continue;
    }
    const next = input[index + 1];
    if (next === '$') {
      out += '$';
      index += 2;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', index + 2);
      if (close === -1) {
        out += input.slice(index);
        break;
      }
      const name = input.slice(index + 2, close);
      const value = name === '' ? undefined : lookup(name);
      out += value ?? input.slice(index, close + 1);
      index = close + 1;
      continue;
    }
    out += char;
    index += 1;
  }
  return out;
}
