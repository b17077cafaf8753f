import { transformFileSync } from '@swc/core';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) yield path;
  }
}

/**
 * The command line, compiled into a directory of this test's own with the repository's .swcrc
 * (type-stripping only): `npm run build` writes the shared dist/ that other test files and
 * people use, and needs the whole tree to type-check. Returns a runner of `cli.js`.
 */
export async function buildCli(outDir: string): Promise<(...args: string[]) => Promise<Run>> {
  for (const top of ['src', 'migrations']) {
    for await (const file of tsFiles(join(ROOT, top))) {
      const { code } = transformFileSync(file, { swcrc: false, sourceMaps: false, module: { type: 'commonjs' },
        jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022', keepClassNames: true } });
      const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, code);
    }
  }
  // The code finds the repository root by its package.json (src/common/repo-root.ts).
  await copyFile(join(ROOT, 'package.json'), join(outDir, 'package.json'));
  const cli = join(outDir, 'src/cli/cli.js');
  return (...args: string[]) =>
    new Promise((done) => {
      execFile(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) }));
    });
}
