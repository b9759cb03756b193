// The set-up files parse: Vagrantfile (ruby -c), and the shell scripts (bash -n). They are not run
// here: provision.sh installs packages, and bench/run takes seconds.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8' });
  return { error: r.error, code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const hasRuby = !run('ruby', ['--version']).error;

describe('set-up files', () => {
  it('Vagrantfile: ruby -c says Syntax OK', (ctx) => {
    ctx.skip(!hasRuby, 'ruby is not installed (apt-get install ruby; vagrant/provision.sh installs it)');
    const r = run('ruby', ['-c', 'Vagrantfile']);
    expect(r.out).toContain('Syntax OK');
    expect(r.code).toBe(0);
  });

  it.each(['vagrant/provision.sh', '.ci/run', 'bench/run'])('%s: bash -n', (file) => {
    const r = run('bash', ['-n', file]);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(['vagrant/provision.sh', '.ci/run', 'bench/run'])('%s: strict bash', (file) => {
    const text = readFileSync(path.join(repo, file), 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
  });

  it('.ci/run runs the README set-up and test commands, then the VM test', () => {
    const text = readFileSync(path.join(repo, '.ci/run'), 'utf8');
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    expect(readme).toContain('sudo bash vagrant/provision.sh');
    expect(readme).toContain('sudo npm test');
    expect(readme).toContain('`.ci/run` is `bash vagrant/provision.sh && npm test && npm run test:classroom && npm run test:vm`');
    expect(text).toMatch(/^bash vagrant\/provision\.sh && npm test && npm run test:classroom && npm run test:vm$/m);
  });

  it('Vagrantfile: the box, both providers and the provision script', () => {
    const text = readFileSync(path.join(repo, 'Vagrantfile'), 'utf8');
    expect(text).toContain('"debian/trixie64"');
    expect(text).toContain('provider "virtualbox"');
    expect(text).toContain('provider "libvirt"');
    expect(text).toContain('vagrant/provision.sh');
  });
});
