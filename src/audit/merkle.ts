import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0) section 2.1, over SHA-256. It is the
 * same tree as RFC 6962 section 2.1, so roots and proofs interoperate with CT logs and with
 * transparency-dev/merkle.
 *
 * Everything here is pure: it takes leaf hashes (never raw records), returns new Buffers and keeps
 * no state except in a MerkleFrontier. Sizes and indices are JavaScript numbers; all arithmetic on
 * them is done with division rather than 32-bit bitwise operators, so any safe integer (< 2^53)
 * works.
 *
 * Generators (rootOf, inclusionProof, consistencyProof, MerkleFrontier) throw on bad arguments,
 * because that is a bug in the caller. Verifiers (verifyInclusion, verifyConsistency) never throw:
 * they return false for anything malformed, because their input comes from someone else.
 */

/** Length in bytes of every hash in the tree (SHA-256). */
export const HASH_LENGTH = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

// One-shot crypto.hash (Node >= 20.12) over a reused input buffer is about twice as fast as
// createHash for these tiny inputs, which matters when a tree has millions of leaves. Safe to share:
// hashing is synchronous.
const nodeInput = Buffer.alloc(1 + 2 * HASH_LENGTH);
nodeInput[0] = 0x01;

function sha256(data: Buffer): Buffer {
  return hash('sha256', data, 'buffer');
}

/**
 * MTH({}) = SHA-256 of the empty string (RFC 9162 section 2.1.1): the root of the empty tree,
 * e3b0c442...b855.
 */
export function emptyRoot(): Buffer {
  return sha256(Buffer.alloc(0));
}

/**
 * The hash of one leaf, SHA-256(0x00 || data) (RFC 9162 section 2.1.1). The 0x00 prefix, distinct
 * from nodeHash's 0x01, is the domain separation that stops an interior node being passed off as
 * a leaf (second-preimage attack on the tree).
 */
export function leafHash(data: Buffer): Buffer {
  if (data.length > 4096) return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
  return sha256(Buffer.concat([LEAF_PREFIX, data]));
}

/** The hash of an interior node, SHA-256(0x01 || left || right) (RFC 9162 section 2.1.1). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== HASH_LENGTH || right.length !== HASH_LENGTH) {
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  }
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 1 + HASH_LENGTH);
  return sha256(nodeInput);
}

function isHash(x: unknown): x is Buffer {
  return Buffer.isBuffer(x) && x.length === HASH_LENGTH;
}

function isSize(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function assertHash(x: unknown, what: string): asserts x is Buffer {
  if (!isHash(x)) throw new TypeError(`${what} must be a ${HASH_LENGTH}-byte Buffer`);
}

function assertSize(x: unknown, what: string): asserts x is number {
  if (!isSize(x)) throw new RangeError(`${what} must be a non-negative safe integer`);
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/** The largest power of two strictly less than n, for n >= 2: the split point k of RFC 9162 2.1.1. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** The number of 1 bits of n: how many perfect subtrees make up a tree of n leaves. */
function popcount(n: number): number {
  let c = 0;
  for (; n > 0; n = half(n)) if (isOdd(n)) c++;
  return c;
}

/**
 * Folds the right edge of a tree (the roots of its perfect subtrees, largest first) into the tree's
 * root: MTH(D[n]) = HASH(0x01 || MTH(first 2^a leaves) || MTH(rest)), applied right to left.
 */
function foldRightEdge(edge: readonly Buffer[]): Buffer {
  if (edge.length === 0) return emptyRoot();
  let acc = edge[edge.length - 1];
  for (let i = edge.length - 2; i >= 0; i--) acc = nodeHash(edge[i], acc);
  return Buffer.from(acc);
}

/**
 * Appends one leaf hash to a right edge of `size` leaves, in place: merges it with the equal-sized
 * perfect subtrees it completes (one per trailing 1 bit of size). O(log n) hashes, amortised O(1).
 */
function pushLeaf(edge: Buffer[], size: number, leaf: Buffer): void {
  let h = leaf;
  for (let s = size; isOdd(s); s = half(s)) h = nodeHash(edge.pop() as Buffer, h);
  edge.push(h);
}

/** MTH(D[start:end]) without recursion, in O(log n) memory. */
function rangeRoot(leaves: readonly Buffer[], start: number, end: number): Buffer {
  const edge: Buffer[] = [];
  for (let i = start; i < end; i++) pushLeaf(edge, i - start, leaves[i]);
  return foldRightEdge(edge);
}

function assertLeaves(leafHashes: readonly Buffer[], count: number): void {
  if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes must be an array');
  for (let i = 0; i < count; i++) assertHash(leafHashes[i], `leafHashes[${i}]`);
}

/**
 * The Merkle Tree Hash MTH(D[n]) of RFC 9162 section 2.1.1 for the given leaf hashes (already
 * leafHash-ed). MTH of no leaves is SHA-256 of the empty string. Iterative: 2^20 leaves take one
 * pass and about 2^20 hashes.
 */
export function rootOf(leafHashes: Buffer[]): Buffer {
  assertLeaves(leafHashes, leafHashes.length);
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * The audit path PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the sibling hashes needed to recompute
 * the root of the first `treeSize` leaves from the leaf at `index`, deepest sibling first.
 * leafHashes may hold more than treeSize leaves; only the first treeSize are used. Iterative
 * (top-down, then reversed); costs O(treeSize) hashes.
 */
export function inclusionProof(leafHashes: Buffer[], index: number, treeSize: number): Buffer[] {
  assertSize(index, 'index');
  assertSize(treeSize, 'treeSize');
  if (treeSize > leafHashes.length) throw new RangeError('treeSize exceeds the number of leaves given');
  if (index >= treeSize) throw new RangeError('index must be less than treeSize');
  assertLeaves(leafHashes, treeSize);

  const topDown: Buffer[] = [];
  let start = 0;
  let end = treeSize;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      // PATH(m, D[0:k]) : MTH(D[k:n])
      topDown.push(rangeRoot(leafHashes, start + k, end));
      end = start + k;
    } else {
      // PATH(m - k, D[k:n]) : MTH(D[0:k])
      topDown.push(rangeRoot(leafHashes, start, start + k));
      start += k;
      m -= k;
    }
  }
  return topDown.reverse();
}

/**
 * Verifies an inclusion proof with the algorithm of RFC 9162 section 2.1.3.2: recomputes the root
 * from the leaf hash and the audit path and compares it with `root`. Returns false (never throws)
 * for anything malformed: index >= treeSize, a hash that is not 32 bytes, a path that is too long
 * or too short.
 *
 * As in the RFC, the proof binds the leaf to the root, and treeSize only steers the path; a tree
 * size whose path has the same shape is also accepted (for example the proof of leaf 0 in a tree
 * of 3 leaves also checks out as one in a tree of 4 against the same root). The size must be bound
 * to the root separately, e.g. by a signed tree head.
 */
export function verifyInclusion(
  leafHash: Buffer,
  index: number,
  treeSize: number,
  proof: Buffer[],
  root: Buffer,
): boolean {
  if (!isHash(leafHash) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;

  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/**
 * The consistency proof PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 section 2.1.4.1:
 * the hashes that let someone holding only the root of the first `oldSize` leaves check that the
 * tree of `newSize` leaves extends it unchanged. Empty when oldSize is 0 or equals newSize (the
 * RFC defines proofs for 0 < m < n only). Iterative; costs O(newSize) hashes.
 */
export function consistencyProof(leafHashes: Buffer[], oldSize: number, newSize: number): Buffer[] {
  assertSize(oldSize, 'oldSize');
  assertSize(newSize, 'newSize');
  if (newSize > leafHashes.length) throw new RangeError('newSize exceeds the number of leaves given');
  if (oldSize > newSize) throw new RangeError('oldSize must not exceed newSize');
  assertLeaves(leafHashes, newSize);
  if (oldSize === 0 || oldSize === newSize) return [];

  const topDown: Buffer[] = [];
  let start = 0;
  let end = newSize;
  let m = oldSize;
  let startsAtOldRoot = true; // the b flag of SUBPROOF: is D[start:start+m] the whole old tree?
  for (;;) {
    const n = end - start;
    if (m === n) {
      // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
      const head = startsAtOldRoot ? [] : [rangeRoot(leafHashes, start, end)];
      return [...head, ...topDown.reverse()];
    }
    const k = splitPoint(n);
    if (m <= k) {
      // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      topDown.push(rangeRoot(leafHashes, start + k, end));
      end = start + k;
    } else {
      // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      topDown.push(rangeRoot(leafHashes, start, start + k));
      start += k;
      m -= k;
      startsAtOldRoot = false;
    }
  }
}

/**
 * Verifies a consistency proof with the algorithm of RFC 9162 section 2.1.4.2: that the tree with
 * root newRoot and newSize leaves has the tree with root oldRoot and oldSize leaves as its prefix.
 * Returns false (never throws) for anything malformed. Cases outside the RFC's 0 < m < n:
 * oldSize === newSize needs an empty proof and equal roots; oldSize === 0 needs an empty proof and
 * oldRoot equal to the empty tree's hash (every tree extends the empty one).
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Buffer,
  newRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  if (oldSize === 0) return proof.length === 0 && oldRoot.equals(emptyRoot());
  if (proof.length === 0) return false;

  // 1. If first is an exact power of 2, prepend first_hash to the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  // 2-3. fn = first - 1, sn = second - 1; shift both right while LSB(fn) is set.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 4. fr = sr = the first value of the path.
  let fr = path[0];
  let sr = path[0];
  // 5. Fold in each subsequent value.
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 6. fr must be the old root, sr the new root, and the whole path used.
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

/** The serialised form of a MerkleFrontier: the tree size and its right edge as lowercase hex. */
export interface MerkleFrontierJSON {
  size: number;
  hashes: string[];
}

const HEX_HASH = /^[0-9a-fA-F]{64}$/;

/**
 * The right edge of a growing tree (its "compact range" from 0, in transparency-dev terms): the
 * roots of the perfect subtrees that make up the first `size` leaves, largest (leftmost) first, one
 * per 1 bit of size. That is all a sealer needs to keep in order to append leaves and compute the
 * RFC 9162 root of an arbitrarily large tree without the old leaves: O(log n) state, O(log n)
 * hashes per root().
 */
export class MerkleFrontier {
  private constructor(
    private _size: number,
    private readonly edge: Buffer[],
  ) {}

  /** The frontier of the empty tree. */
  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /**
   * Restores a frontier saved with toJSON. Throws if it is malformed: size not a non-negative safe
   * integer, not exactly one 64-hex-digit hash per 1 bit of size.
   */
  static fromJSON(x: MerkleFrontierJSON): MerkleFrontier {
    if (typeof x !== 'object' || x === null) throw new TypeError('frontier must be an object');
    if (!isSize(x.size)) throw new RangeError('frontier size must be a non-negative safe integer');
    if (!Array.isArray(x.hashes)) throw new TypeError('frontier hashes must be an array');
    if (x.hashes.length !== popcount(x.size)) {
      throw new RangeError(`a frontier of size ${x.size} has ${popcount(x.size)} hashes, not ${x.hashes.length}`);
    }
    const edge = x.hashes.map((h, i) => {
      if (typeof h !== 'string' || !HEX_HASH.test(h)) throw new TypeError(`frontier hashes[${i}] is not 64 hex digits`);
      return Buffer.from(h, 'hex');
    });
    return new MerkleFrontier(x.size, edge);
  }

  toJSON(): MerkleFrontierJSON {
    return { size: this._size, hashes: this.edge.map((h) => h.toString('hex')) };
  }

  /** The number of leaves appended so far. */
  get size(): number {
    return this._size;
  }

  /** Appends the next leaf's hash (a leafHash, not raw data). */
  append(leafHash: Buffer): void {
    assertHash(leafHash, 'leafHash');
    if (this._size >= Number.MAX_SAFE_INTEGER) throw new RangeError('frontier is full');
    pushLeaf(this.edge, this._size, Buffer.from(leafHash));
    this._size++;
  }

  /** MTH of all the leaves appended so far: equal to rootOf(those leaves), for every size. */
  root(): Buffer {
    return foldRightEdge(this.edge);
  }
}
