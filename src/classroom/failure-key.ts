// What makes two learners' failing checks the same failure: the step, the check's name and the
// expected value, with what differs from learner to learner by design taken out. A chapter's nonce
// (12 hex digits) is in the check's name and in its expected value; temporary paths, home folders,
// timestamps, PIDs and UUIDs are elsewhere. Without this, one problem shows as many "1 of 30"
// groups. The learner's actual value is never part of the key: each member keeps their own.

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g, '<time>'],
  [/\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b/g, '<time>'],
  [/\/(?:var\/)?tmp\/[^\s"'`,;:)\]]+/g, '/tmp/<path>'],
  [/\/home\/[^\s"'`,;:/)\]]+/g, '/home/<user>'],
  // mktemp's and the tests' random suffixes: tmp.Xa3bC9dE, ws-ada-k2J9xQ
  [/\b(tmp\.|ws-(?:[a-z]+-)?)[A-Za-z0-9]{6,}\b/g, '$1<random>'],
  // nonces and hashes: hex with a letter and a digit, 8 or more
  [/\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<nonce>'],
  // PIDs, inode numbers, epoch seconds: any run of 4 or more digits
  [/\b\d{4,}\b/g, '<n>'],
];

/** `text` with the parts that differ between learners replaced by a placeholder. */
export function normalizeFailure(text: string): string {
  let out = text;
  for (const [re, by] of RULES) out = out.replace(re, by);
  return out;
}

/** The key of a failing check: step, check and expected value, normalized. */
export const failureKey = (step: string, check: string, expected: string): string => JSON.stringify([step, normalizeFailure(check), normalizeFailure(expected)]);
