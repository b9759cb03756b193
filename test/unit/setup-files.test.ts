// The set-up files parse: Vagrantfile (ruby -c), and the shell scripts (bash -n). They are not run
// here: provision.sh installs packages, and bench/run takes seconds.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? repo, encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { error: r.error, code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const hasRuby = !run('ruby', ['--version']).error;
const hasVagrant = !run('vagrant', ['--version']).error;

/**
 * `vagrant validate` on a copy of the Vagrantfile, with Vagrant's state and home in a temp folder
 * (it writes .vagrant/ next to the file). --ignore-provider: CI has neither VirtualBox nor libvirt,
 * and validating the provider blocks needs their plugins.
 */
function vagrantValidate(vagrantfile: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-vagrant-'));
  try {
    writeFileSync(path.join(dir, 'Vagrantfile'), vagrantfile);
    return run('vagrant', ['validate', '--ignore-provider'], { cwd: dir, env: { VAGRANT_HOME: path.join(dir, 'home'), VAGRANT_CHECKPOINT_DISABLE: '1' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('set-up files', () => {
  it('Vagrantfile: vagrant validate accepts it, and rejects a misspelt setting', (ctx) => {
    ctx.skip(!hasVagrant, 'vagrant is not installed (vagrant/provision.sh installs it on CI); ruby -c below still checks the syntax');
    const text = readFileSync(path.join(repo, 'Vagrantfile'), 'utf8');
    const ok = vagrantValidate(text);
    expect(ok.out).toContain('Vagrantfile validated successfully.');
    expect(ok.code).toBe(0);
    const typo = vagrantValidate(text.replace('config.vm.hostname =', 'config.vm.hostnam ='));
    expect(typo.out).toContain('hostnam');
    expect(typo.code).not.toBe(0);
  }, 60_000);

  it('Vagrantfile: ruby -c says Syntax OK (the fallback without vagrant)', (ctx) => {
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

  it('README: the chapter table lists every chapter of lessons/, and no file a user does not have', () => {
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    const ids = readdirSync(path.join(repo, 'lessons')).flatMap((d) => /^(\d+)-([a-z0-9-]+)$/.exec(d)?.slice(1, 3) ?? []);
    for (let i = 0; i < ids.length; i += 2) expect(readme).toMatch(new RegExp(`^\\| ${ids[i] ?? ''} \\| \`${ids[i + 1] ?? ''}\` \\| .+ \\|$`, 'm'));
    expect(readme).not.toContain('CURRICULUM.md');
  });

  it('provision.sh installs vagrant on CI, for the validate test', () => {
    expect(readFileSync(path.join(repo, 'vagrant/provision.sh'), 'utf8')).toMatch(/CI:-\} == true[^\n]*\n(?:\s*#.*\n)*\s*PACKAGES\+=\([^)]*\bvagrant\b/);
  });

  it('Vagrantfile: the box, both providers and the provision script', () => {
    const text = readFileSync(path.join(repo, 'Vagrantfile'), 'utf8');
    expect(text).toContain('"debian/trixie64"');
    expect(text).toContain('provider "virtualbox"');
    expect(text).toContain('provider "libvirt"');
    expect(text).toContain('vagrant/provision.sh');
  });
});
