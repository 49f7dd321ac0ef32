/**
 * Nesting depth of request bodies: deep JSON and YAML (flow, block maps, block sequences) are
 * refused with 400 before they are composed, at the bound and not below it; brackets inside
 * strings do not count; patches (JSON, merge, strategic, server-side apply) are bounded too.
 */
import { describe, expect, it } from 'vitest';
import { documentLimits, jsonNestingDepth, yamlNestingDepth } from '../../actors/apiserver/document-depth.js';
import { parseDocument } from '../../actors/apiserver/http/io.js';
import { applyPatch, patchContentTypes } from '../../actors/apiserver/patch.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError } from '../../actors/apiserver/status.js';

const limit = documentLimits.nestingDepthMax;
const jsonNested = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const yamlFlow = (levels: number): string => '{a: '.repeat(levels) + '1' + '}'.repeat(levels);
const yamlBlockMap = (levels: number): string => Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';
const yamlBlockSeq = (levels: number): string => `${'- '.repeat(levels)}x\n`;

function statusOf(run: () => unknown): number | 'ok' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return error.httpStatus;
    throw error;
  }
}

describe('nesting depth', () => {
  it('measures JSON depth outside strings', () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[{{{"}]}')).toBe(3);
    expect(jsonNestingDepth('"\\"[[["')).toBe(0);
    expect(jsonNestingDepth(jsonNested(2_000))).toBe(2_000);
    expect(jsonNestingDepth(jsonNested(2_000), 100)).toBe(101);
  });

  it('measures YAML depth in flow and block style', () => {
    expect(yamlNestingDepth('a:\n  b: [1, {c: "[[["}]\n')).toBe(4);
    expect(yamlNestingDepth(yamlFlow(2_000))).toBe(2_000);
    expect(yamlNestingDepth(yamlBlockMap(300))).toBe(300);
    expect(yamlNestingDepth(yamlBlockSeq(2_000))).toBe(2_000);
    expect(yamlNestingDepth('a: |\n  [[[[\n    {{{{\n')).toBe(1);
  });

  it('parseDocument answers 400 past the bound and parses at it', () => {
    for (const [mediaType, make] of [
      ['application/json', jsonNested], ['application/yaml', yamlFlow], ['application/yaml', yamlBlockMap], ['application/yaml', yamlBlockSeq],
    ] as const) {
      expect(statusOf(() => parseDocument(mediaType, make(limit)))).toBe('ok');
      expect(statusOf(() => parseDocument(mediaType, make(limit + 1)))).toBe(400);
      expect(statusOf(() => parseDocument(mediaType, make(2_000)))).toBe(400);
    }
  });

  it('patch bodies are bounded the same way', () => {
    const info = findResource('', 'v1', 'configmaps') as ResourceInfo;
    const current = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } };
    const deep = `{"data":${jsonNested(2_000)}}`;
    for (const type of [patchContentTypes.merge, patchContentTypes.strategic]) {
      expect(statusOf(() => applyPatch(type, current, deep, info, {}))).toBe(400);
    }
    expect(statusOf(() => applyPatch(patchContentTypes.json, current, `[{"op":"add","path":"/x","value":${jsonNested(2_000)}}]`, info, {}))).toBe(400);
    const apply = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: ${yamlFlow(2_000)}\n`;
    expect(statusOf(() => applyPatch(patchContentTypes.apply, current, apply, info, { fieldManager: 'm' }))).toBe(400);
  });
});
