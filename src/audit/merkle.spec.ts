import { createHash, randomBytes } from 'node:crypto';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

const hex = (b: Buffer): string => b.toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');
const sha256 = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

/** A copy of `b` with bit 3 of byte `at` flipped. */
function flipped(b: Buffer, at = 0): Buffer {
  const c = Buffer.from(b);
  c[at] ^= 0x08;
  return c;
}

/** Deterministic, random-looking leaf hashes, so a failure can be reproduced. */
function pseudoRandomLeaves(n: number, seed: string): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(sha256(Buffer.from(`${seed}:${i}`))));
}

/*
 * Known answers, all copied from transparency-dev/merkle (the Go library behind Trillian and the
 * Certificate Transparency logs), file proof/verify_test.go at commit
 * 02194e9afb6c1d95b5381350007963aa70fff472: `leaves`, `roots`, `inclusionProofs`,
 * `consistencyProofs`. The same leaves and roots are the C++ reference test data of
 * google/certificate-transparency (RFC 6962). Go's inclusionProofs number leaves from 1; the index
 * below is theirs minus one. The hasher answers come from rfc6962/rfc6962_test.go in the same
 * repository (commit 78493b07ef9b552e3379abf9e23d4da26fbe797c).
 */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  unhex,
);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // 0 (the empty tree)
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', // 1
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125', // 2
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77', // 3
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', // 4
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4', // 5
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef', // 6
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c', // 7
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', // 8
];
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CT_CONSISTENCY = [
  { oldSize: 1, newSize: 1, proof: [] as string[] },
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const SOME_HASH = unhex('abacaba000000000000000000000000000000000000000000060061e00123456');

const ctLeafHashes = CT_LEAVES.map(leafHash);
const ctRoot = (n: number): Buffer => unhex(CT_ROOTS[n]);

describe('RFC 6962 / 9162 hashing', () => {
  it('hashes leaves and nodes with their domain prefixes (published answers)', () => {
    expect(hex(emptyRoot())).toBe(CT_ROOTS[0]);
    expect(hex(leafHash(Buffer.alloc(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(hex(leafHash(Buffer.from('L123456')))).toBe('395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    expect(hex(nodeHash(Buffer.from('N123'), Buffer.from('N456')))).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
    expect(hex(leafHash(CT_LEAVES[1]))).toBe('96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7');
    expect(hex(nodeHash(ctLeafHashes[0], ctLeafHashes[1]))).toBe(CT_ROOTS[2]);
  });

  it('hashes large leaves the same way as small ones', () => {
    const big = randomBytes(100_000);
    expect(leafHash(big).equals(sha256(Buffer.from([0]), big))).toBe(true);
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(nodeHash(a, b).equals(sha256(Buffer.from([1]), a, b))).toBe(true);
  });

  it('separates leaves from nodes, so a node cannot pass as a leaf (second preimage)', () => {
    for (let i = 0; i < 20; i++) {
      const x = randomBytes(64);
      const [left, right] = [x.subarray(0, 32), x.subarray(32)];
      // Without the 0x00 / 0x01 prefixes both would be SHA-256(x).
      expect(leafHash(x).equals(nodeHash(left, right))).toBe(false);
      expect(leafHash(x).equals(sha256(x))).toBe(false);
      expect(nodeHash(left, right).equals(sha256(x))).toBe(false);
    }
    // The classic forgery: present the two leaf hashes of a 2-leaf tree as the data of one leaf.
    const [h0, h1] = ctLeafHashes;
    const forged = leafHash(Buffer.concat([h0, h1]));
    expect(forged.equals(rootOf([h0, h1]))).toBe(false);
    expect(verifyInclusion(forged, 0, 1, [], rootOf([h0, h1]))).toBe(false);
    // And the order of children matters.
    expect(nodeHash(h0, h1).equals(nodeHash(h1, h0))).toBe(false);
  });
});

describe('rootOf', () => {
  it('matches the published root for every size 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(hex(rootOf(ctLeafHashes.slice(0, n)))).toBe(CT_ROOTS[n]);
  });

  it('matches the recursive definition of MTH for sizes 0..70', () => {
    const mth = (d: Buffer[]): Buffer => {
      if (d.length === 0) return sha256();
      if (d.length === 1) return d[0];
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    const leaves = pseudoRandomLeaves(70, 'mth');
    for (let n = 0; n <= 70; n++) expect(hex(rootOf(leaves.slice(0, n)))).toBe(hex(mth(leaves.slice(0, n))));
  });

  it('refuses hashes that are not 32 bytes', () => {
    expect(() => rootOf([ctLeafHashes[0], Buffer.alloc(31)])).toThrow(TypeError);
  });

  it('does not hand back a leaf buffer the caller could alias', () => {
    const leaf = Buffer.from(ctLeafHashes[0]);
    const root = rootOf([leaf]);
    root[0] ^= 1;
    expect(leaf.equals(ctLeafHashes[0])).toBe(true);
  });
});

describe('MerkleFrontier', () => {
  const leaves = pseudoRandomLeaves(70, 'frontier');

  it('has the root of every prefix, sizes 0..70', () => {
    const f = MerkleFrontier.empty();
    for (let n = 0; n <= 70; n++) {
      expect(f.size).toBe(n);
      expect(hex(f.root())).toBe(hex(rootOf(leaves.slice(0, n))));
      if (n < 70) f.append(leaves[n]);
    }
  });

  it('matches the published roots', () => {
    const f = MerkleFrontier.empty();
    expect(hex(f.root())).toBe(CT_ROOTS[0]);
    ctLeafHashes.forEach((h, i) => {
      f.append(h);
      expect(hex(f.root())).toBe(CT_ROOTS[i + 1]);
    });
  });

  it('survives a JSON round trip at every size and carries on from it', () => {
    for (let cut = 0; cut <= 70; cut++) {
      const f = MerkleFrontier.empty();
      for (let i = 0; i < cut; i++) f.append(leaves[i]);
      const saved = JSON.parse(JSON.stringify(f)) as { size: number; hashes: string[] };
      expect(saved.size).toBe(cut);
      expect(saved.hashes).toHaveLength(cut.toString(2).split('1').length - 1);
      const restored = MerkleFrontier.fromJSON(saved);
      expect(restored.toJSON()).toEqual(f.toJSON());
      expect(hex(restored.root())).toBe(hex(f.root()));
      for (let i = cut; i < 70; i++) restored.append(leaves[i]);
      expect(restored.size).toBe(70);
      expect(hex(restored.root())).toBe(hex(rootOf(leaves)));
    }
  });

  it('refuses a malformed saved frontier', () => {
    const good = (() => {
      const f = MerkleFrontier.empty();
      for (let i = 0; i < 5; i++) f.append(leaves[i]);
      return f.toJSON(); // size 5 = 101b: two hashes
    })();
    expect(() => MerkleFrontier.fromJSON(good)).not.toThrow();
    expect(() => MerkleFrontier.fromJSON({ ...good, size: 6 })).not.toThrow(); // 110b: also two
    expect(() => MerkleFrontier.fromJSON({ ...good, size: 4 })).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ ...good, size: 7 })).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ ...good, size: -1 })).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ ...good, size: 5.5 })).toThrow(RangeError);
    expect(() => MerkleFrontier.fromJSON({ size: 5, hashes: [good.hashes[0], 'zz'.repeat(32)] })).toThrow(TypeError);
    expect(() => MerkleFrontier.fromJSON({ size: 5, hashes: [good.hashes[0], good.hashes[1].slice(2)] })).toThrow(
      TypeError,
    );
    expect(() => MerkleFrontier.fromJSON({ size: 1 } as never)).toThrow(TypeError);
    expect(() => MerkleFrontier.fromJSON(null as never)).toThrow(TypeError);
  });

  it('refuses a leaf hash that is not 32 bytes, and keeps its own copy of what it is given', () => {
    const f = MerkleFrontier.empty();
    expect(() => f.append(Buffer.alloc(33))).toThrow(TypeError);
    expect(f.size).toBe(0);
    const leaf = Buffer.from(leaves[0]);
    f.append(leaf);
    leaf.fill(0);
    expect(hex(f.root())).toBe(hex(leaves[0]));
  });
});

/** RFC 9162 PATH(m, D[n]) by its recursive definition: which side each sibling is on, deepest first. */
function pathShape(m: number, n: number): string {
  if (n <= 1) return '';
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? pathShape(m, k) + 'R' : pathShape(m - k, n - k) + 'L';
}

describe('inclusion proofs', () => {
  it('reproduces and verifies the published proofs', () => {
    for (const { index, size, proof } of CT_INCLUSION) {
      expect(inclusionProof(ctLeafHashes, index, size).map(hex)).toEqual(proof);
      expect(verifyInclusion(ctLeafHashes[index], index, size, proof.map(unhex), ctRoot(size))).toBe(true);
    }
    // A tree of one leaf: the proof is empty and the root is the leaf hash.
    expect(inclusionProof(ctLeafHashes, 0, 1)).toEqual([]);
    expect(verifyInclusion(ctLeafHashes[0], 0, 1, [], ctRoot(1))).toBe(true);
  });

  it('rejects the corruptions that transparency-dev/merkle probes the published proofs with', () => {
    for (const { index, size, proof: p } of CT_INCLUSION) {
      const proof = p.map(unhex);
      const leaf = ctLeafHashes[index];
      const root = ctRoot(size);
      const bad: Array<[Buffer, number, number, Buffer[], Buffer]> = [
        [leaf, index - 1, size, proof, root],
        [leaf, index + 1, size, proof, root],
        [leaf, index ^ 2, size, proof, root],
        [leaf, index, size * 2, proof, root],
        [leaf, index, Math.floor(size / 2), proof, root],
        [Buffer.from('WrongLeaf'), index, size, proof, root],
        [leafHash(Buffer.from('WrongLeaf')), index, size, proof, root],
        [leaf, index, size, proof, emptyRoot()],
        [leaf, index, size, proof, SOME_HASH],
        [leaf, index, size, [...proof, Buffer.alloc(0)], root],
        [leaf, index, size, [...proof, root], root],
        [leaf, index, size, [Buffer.alloc(0), ...proof], root],
        [leaf, index, size, [root, ...proof], root],
        [leaf, index, size, proof.slice(0, -1), root],
        ...proof.map((_, i): [Buffer, number, number, Buffer[], Buffer] => [
          leaf,
          index,
          size,
          proof.map((h, j) => (j === i ? flipped(h) : h)),
          root,
        ]),
      ];
      if (proof.length > 1) bad.push([leaf, index, size, [proof[0], SOME_HASH, ...proof.slice(1)], root]);
      for (const args of bad) expect(verifyInclusion(...args)).toBe(false);
    }
  });

  it('rejects impossible positions and malformed input without throwing', () => {
    const h = SOME_HASH;
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [1, 1],
      [-1, 4],
      [0.5, 4],
      [Number.NaN, 4],
      [0, Number.POSITIVE_INFINITY],
    ]) {
      expect(verifyInclusion(h, index, size, [], h)).toBe(false);
    }
    expect(verifyInclusion(h, 0, 1, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(h, 0, 2, [Buffer.alloc(31)], h)).toBe(false);
    expect(verifyInclusion(h, 0, 2, 'nonsense' as never, h)).toBe(false);
  });

  it('refuses to generate a proof for a position outside the tree', () => {
    expect(() => inclusionProof(ctLeafHashes, 8, 8)).toThrow(RangeError);
    expect(() => inclusionProof(ctLeafHashes, 0, 9)).toThrow(RangeError);
    expect(() => inclusionProof(ctLeafHashes, -1, 4)).toThrow(RangeError);
    expect(() => inclusionProof(ctLeafHashes, 0, 0)).toThrow(RangeError);
  });

  // These loops make ~100,000 checks; they collect failures and assert once, because a jest
  // expect() per check costs more than the hashing.
  describe('for every leaf of every tree of 1..40 leaves', () => {
    const leaves = pseudoRandomLeaves(41, 'inclusion');
    const roots = Array.from({ length: 42 }, (_, n) => rootOf(leaves.slice(0, n)));
    const cases: Array<{ n: number; i: number; proof: Buffer[] }> = [];
    for (let n = 1; n <= 40; n++) for (let i = 0; i < n; i++) cases.push({ n, i, proof: inclusionProof(leaves, i, n) });

    it('the proof verifies, has the shape of RFC 9162 PATH, and uses only the first treeSize leaves', () => {
      expect(cases).toHaveLength(820);
      const failures: string[] = [];
      for (const { n, i, proof } of cases) {
        const same = inclusionProof(leaves.slice(0, n), i, n);
        if (proof.length !== pathShape(i, n).length) failures.push(`length ${n}/${i}`);
        if (same.length !== proof.length || !same.every((h, k) => h.equals(proof[k]))) failures.push(`prefix ${n}/${i}`);
        if (!verifyInclusion(leaves[i], i, n, proof, roots[n])) failures.push(`verify ${n}/${i}`);
      }
      expect(failures).toEqual([]);
    });

    it('a flipped byte in any proof hash, the leaf or the root does not verify', () => {
      const accepted: string[] = [];
      for (const { n, i, proof } of cases) {
        for (let j = 0; j < proof.length; j++) {
          const at = (i * 7 + j * 13) % 32;
          const tampered = proof.map((h, k) => (k === j ? flipped(h, at) : h));
          if (verifyInclusion(leaves[i], i, n, tampered, roots[n])) accepted.push(`proof[${j}] ${n}/${i}`);
        }
        if (verifyInclusion(flipped(leaves[i], 31), i, n, proof, roots[n])) accepted.push(`leaf ${n}/${i}`);
        if (verifyInclusion(leaves[i], i, n, proof, flipped(roots[n], 17))) accepted.push(`root ${n}/${i}`);
        if (proof.length > 0 && verifyInclusion(leaves[i], i, n, proof.slice(1), roots[n])) accepted.push(`short ${n}/${i}`);
        if (verifyInclusion(leaves[i], i, n, [...proof, roots[n]], roots[n])) accepted.push(`long ${n}/${i}`);
      }
      expect(accepted).toEqual([]);
    });

    it('the proof does not verify at any other index, nor against the root of any other size', () => {
      const accepted: string[] = [];
      for (const { n, i, proof } of cases) {
        for (let j = 0; j <= 41; j++) {
          if (j !== i && verifyInclusion(leaves[i], j, n, proof, roots[n])) accepted.push(`index ${j} for ${n}/${i}`);
        }
        for (let m = 0; m <= 41; m++) {
          if (m !== n && verifyInclusion(leaves[i], i, n, proof, roots[m])) accepted.push(`root ${m} for ${n}/${i}`);
        }
      }
      expect(accepted).toEqual([]);
    });

    it('a wrong tree size is rejected unless its path has exactly the same shape (RFC 9162 behaviour)', () => {
      // The root, not treeSize, is what the proof binds the leaf to: a size whose audit path has
      // the same sequence of left/right siblings recomputes the same root. Callers must get the
      // size from the signed tree head together with the root.
      const wrong: string[] = [];
      let rejected = 0;
      let accepted = 0;
      for (const { n, i, proof } of cases) {
        for (let m = 1; m <= 81; m++) {
          if (m === n) continue;
          const sameShape = i < m && pathShape(i, m) === pathShape(i, n);
          const ok = verifyInclusion(leaves[i], i, m, proof, roots[n]);
          if (ok !== sameShape) wrong.push(`size ${m} for ${n}/${i}: ${ok}`);
          if (ok) accepted++;
          else rejected++;
        }
      }
      expect(wrong).toEqual([]);
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(accepted);
      // For instance leaf 0 of 3 and leaf 0 of 4 both have their siblings on the right, twice.
      const proof3 = inclusionProof(leaves, 0, 3);
      expect(verifyInclusion(leaves[0], 0, 4, proof3, roots[3])).toBe(true);
      expect(verifyInclusion(leaves[0], 0, 4, proof3, roots[4])).toBe(false);
    });
  });
});

describe('consistency proofs', () => {
  it('reproduces and verifies the published proofs', () => {
    for (const { oldSize, newSize, proof } of CT_CONSISTENCY) {
      expect(consistencyProof(ctLeafHashes, oldSize, newSize).map(hex)).toEqual(proof);
      expect(verifyConsistency(oldSize, newSize, ctRoot(oldSize), ctRoot(newSize), proof.map(unhex))).toBe(true);
    }
  });

  it('rejects the corruptions that transparency-dev/merkle probes the published proofs with', () => {
    for (const { oldSize, newSize, proof: p } of CT_CONSISTENCY.filter((c) => c.proof.length > 0)) {
      const proof = p.map(unhex);
      const root1 = ctRoot(oldSize);
      const root2 = ctRoot(newSize);
      const bad: Array<[number, number, Buffer, Buffer, Buffer[]]> = [
        [oldSize - 1, newSize, root1, root2, proof],
        [oldSize + 1, newSize, root1, root2, proof],
        [oldSize ^ 2, newSize, root1, root2, proof],
        [oldSize, newSize * 2, root1, root2, proof],
        [oldSize, Math.floor(newSize / 2), root1, root2, proof],
        [oldSize, newSize, Buffer.from('WrongRoot'), root2, proof],
        [oldSize, newSize, root1, Buffer.from('WrongRoot'), proof],
        [oldSize, newSize, SOME_HASH, root2, proof],
        [oldSize, newSize, root1, SOME_HASH, proof],
        [oldSize, newSize, root2, root1, proof],
        [oldSize, newSize, root1, root2, []],
        [oldSize, newSize, root1, root2, [...proof, Buffer.alloc(0)]],
        [oldSize, newSize, root1, root2, [...proof, root1]],
        [oldSize, newSize, root1, root2, [...proof, root2]],
        [oldSize, newSize, root1, root2, [Buffer.alloc(0), ...proof]],
        [oldSize, newSize, root1, root2, [root1, ...proof]],
        [oldSize, newSize, root1, root2, [root2, ...proof]],
        [oldSize, newSize, root1, root2, [proof[0], ...proof]],
        [oldSize, newSize, root1, root2, proof.slice(0, -1)],
        ...proof.map((_, i): [number, number, Buffer, Buffer, Buffer[]] => [
          oldSize,
          newSize,
          root1,
          root2,
          proof.map((h, j) => (j === i ? flipped(h) : h)),
        ]),
      ];
      for (const args of bad) expect(verifyConsistency(...args)).toBe(false);
    }
  });

  it('handles the sizes outside 0 < m < n as documented', () => {
    const e = emptyRoot();
    const r1 = ctRoot(1);
    // m = n: empty proof and equal roots.
    expect(verifyConsistency(0, 0, e, e, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, ctRoot(2), [])).toBe(false);
    expect(verifyConsistency(0, 0, e, SOME_HASH, [])).toBe(false);
    expect(verifyConsistency(1, 1, r1, r1, [e])).toBe(false);
    // m = 0: every tree extends the empty one, whose root is SHA-256("").
    expect(verifyConsistency(0, 8, e, ctRoot(8), [])).toBe(true);
    expect(verifyConsistency(0, 8, SOME_HASH, ctRoot(8), [])).toBe(false);
    expect(verifyConsistency(0, 1, e, r1, [e])).toBe(false);
    expect(consistencyProof(ctLeafHashes, 0, 8)).toEqual([]);
    expect(consistencyProof(ctLeafHashes, 8, 8)).toEqual([]);
    // Time travel and nonsense.
    expect(verifyConsistency(2, 1, ctRoot(2), r1, [])).toBe(false);
    expect(verifyConsistency(1, 0, r1, e, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, ctRoot(2), [])).toBe(false);
    expect(verifyConsistency(-1, 2, r1, ctRoot(2), [])).toBe(false);
    expect(verifyConsistency(1.5, 2, r1, ctRoot(2), [ctLeafHashes[1]])).toBe(false);
    expect(verifyConsistency(1, 2, r1, ctRoot(2), [Buffer.alloc(31)])).toBe(false);
    expect(() => consistencyProof(ctLeafHashes, 3, 2)).toThrow(RangeError);
    expect(() => consistencyProof(ctLeafHashes, 3, 9)).toThrow(RangeError);
  });

  describe('for every pair of sizes 1 <= m <= n <= 40', () => {
    const leaves = pseudoRandomLeaves(40, 'consistency');
    const roots = Array.from({ length: 41 }, (_, n) => rootOf(leaves.slice(0, n)));
    const cases: Array<{ m: number; n: number; proof: Buffer[] }> = [];
    for (let n = 1; n <= 40; n++) for (let m = 1; m <= n; m++) cases.push({ m, n, proof: consistencyProof(leaves, m, n) });

    it('the proof verifies, and uses only the first newSize leaves', () => {
      expect(cases).toHaveLength(820);
      const failures: string[] = [];
      for (const { m, n, proof } of cases) {
        const same = consistencyProof(leaves.slice(0, n), m, n);
        if (same.length !== proof.length || !same.every((h, k) => h.equals(proof[k]))) failures.push(`prefix ${m}->${n}`);
        if (!verifyConsistency(m, n, roots[m], roots[n], proof)) failures.push(`verify ${m}->${n}`);
      }
      expect(failures).toEqual([]);
    });

    it('tampered proofs and roots do not verify', () => {
      const accepted: string[] = [];
      for (const { m, n, proof } of cases) {
        for (let j = 0; j < proof.length; j++) {
          const at = (m * 5 + n * 3 + j) % 32;
          const tampered = proof.map((h, k) => (k === j ? flipped(h, at) : h));
          if (verifyConsistency(m, n, roots[m], roots[n], tampered)) accepted.push(`proof[${j}] ${m}->${n}`);
        }
        if (proof.length > 0) {
          if (verifyConsistency(m, n, roots[m], roots[n], proof.slice(0, -1))) accepted.push(`truncated ${m}->${n}`);
          if (verifyConsistency(m, n, roots[m], roots[n], proof.slice(1))) accepted.push(`headless ${m}->${n}`);
        }
        if (verifyConsistency(m, n, roots[m], roots[n], [...proof, roots[n]])) accepted.push(`extended ${m}->${n}`);
        if (verifyConsistency(m, n, flipped(roots[m], 9), roots[n], proof)) accepted.push(`old root ${m}->${n}`);
        if (verifyConsistency(m, n, roots[m], flipped(roots[n], 22), proof)) accepted.push(`new root ${m}->${n}`);
        for (let k = 1; k <= 40; k++) {
          if (k !== m && verifyConsistency(m, n, roots[k], roots[n], proof)) accepted.push(`old root ${k} ${m}->${n}`);
          if (k !== n && verifyConsistency(m, n, roots[m], roots[k], proof)) accepted.push(`new root ${k} ${m}->${n}`);
        }
      }
      expect(accepted).toEqual([]);
    });

    it('a forked new tree (one earlier leaf changed) is not consistent with the old root', () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const { m, n, proof } of cases) {
        if (m === n) continue;
        for (const changed of new Set([0, m - 1, Math.floor((m - 1) / 2)])) {
          const forked = leaves.slice(0, n);
          forked[changed] = leafHash(Buffer.from(`forged ${changed}`));
          const forkedRoot = rootOf(forked);
          const forkedProof = consistencyProof(forked, m, n);
          // The log's honest proof for the forked tree fails against the old root...
          if (verifyConsistency(m, n, roots[m], forkedRoot, forkedProof)) wrong.push(`forked proof ${m}->${n} @${changed}`);
          // ...and so does the proof of the original tree.
          if (verifyConsistency(m, n, roots[m], forkedRoot, proof)) wrong.push(`original proof ${m}->${n} @${changed}`);
          // While the forked tree is consistent with its own prefix.
          if (!verifyConsistency(m, n, rootOf(forked.slice(0, m)), forkedRoot, forkedProof)) wrong.push(`own ${m}->${n}`);
          checked++;
        }
      }
      expect(wrong).toEqual([]);
      expect(checked).toBeGreaterThan(1500);
    });
  });
});

describe('large trees', () => {
  it('rootOf handles 2^20 + 3 leaves iteratively and gets the root right', () => {
    // With every leaf equal, the root has a closed form: a perfect subtree of 2^k leaves hashes to
    // h_k, where h_0 = leaf and h_(k+1) = nodeHash(h_k, h_k); and 2^20 + 3 splits as 2^20, then 2, then 1.
    const leaf = leafHash(Buffer.from('same'));
    const perfect = [leaf];
    for (let k = 1; k <= 20; k++) perfect.push(nodeHash(perfect[k - 1], perfect[k - 1]));
    const expected = nodeHash(perfect[20], nodeHash(perfect[1], perfect[0]));
    const n = 2 ** 20 + 3;
    expect(rootOf(new Array<Buffer>(n).fill(leaf)).equals(expected)).toBe(true);
  }, 60_000);

  it('frontier, root and proofs agree on 2^14 + 3 random leaves', () => {
    const n = 2 ** 14 + 3;
    const backing = randomBytes(32 * n);
    const leaves = Array.from({ length: n }, (_, i) => backing.subarray(32 * i, 32 * (i + 1)));
    const root = rootOf(leaves);

    const f = MerkleFrontier.empty();
    for (let i = 0; i < n; i++) f.append(leaves[i]);
    expect(f.size).toBe(n);
    expect(f.root().equals(root)).toBe(true);

    for (const index of [0, 12_345, n - 1]) {
      const proof = inclusionProof(leaves, index, n);
      expect(proof).toHaveLength(pathShape(index, n).length);
      expect(verifyInclusion(leaves[index], index, n, proof, root)).toBe(true);
    }
    for (const oldSize of [1, 2 ** 14, 5_432]) {
      const proof = consistencyProof(leaves, oldSize, n);
      expect(verifyConsistency(oldSize, n, rootOf(leaves.slice(0, oldSize)), root, proof)).toBe(true);
    }
  }, 60_000);
});
