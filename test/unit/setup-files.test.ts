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

  it('.ci/run runs the README set-up and test commands, then the VM and hosted-labs tests', () => {
    const text = readFileSync(path.join(repo, '.ci/run'), 'utf8');
    const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
    expect(readme).toContain('sudo bash vagrant/provision.sh');
    expect(readme).toContain('sudo npm test');
    const line = /^bash vagrant\/provision\.sh && .*$/m.exec(text)?.[0] ?? '';
    expect(line).toBe('bash vagrant/provision.sh && npm test && npm run test:classroom && npm run test:vm && npm run test:labs');
    // the README says what CI runs, in the same words (its paragraph may wrap the line)
    expect(readme.replace(/\s+/g, ' ')).toContain(`\`.ci/run\` is \`${line}\``);
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

  it('Vagrantfile: the boxes, the providers and the provision script', () => {
    const text = readFileSync(path.join(repo, 'Vagrantfile'), 'utf8');
    expect(text).toContain('"debian/trixie64"');
    // arm64 hosts (Apple Silicon) and the providers debian/trixie64 lacks take Bento's Debian 13 box
    expect(text).toMatch(/BENTO_BOX = "bento\/debian-13"/);
    expect(text).toMatch(/config\.vm\.box = ARM_HOST \? BENTO_BOX : "debian\/trixie64"/);
    for (const p of ['virtualbox', 'libvirt', 'vmware_desktop', 'parallels', 'hyperv']) expect(text).toContain(`provider "${p}"`);
    for (const p of ['vmware_desktop', 'parallels', 'hyperv']) expect(text).toMatch(new RegExp(`provider "${p}" do \\|\\w+, override\\|\\n\\s*override\\.vm\\.box = BENTO_BOX`));
    expect(text).toContain('vagrant/provision.sh');
  });

  it('Vagrantfile: vagrant validate takes the arm64 branch too', (ctx) => {
    ctx.skip(!hasVagrant, 'vagrant is not installed (vagrant/provision.sh installs it on CI)');
    const text = readFileSync(path.join(repo, 'Vagrantfile'), 'utf8');
    const arm = vagrantValidate(text.replace(/^ARM_HOST = .*$/m, 'ARM_HOST = true'));
    expect(arm.out).toContain('Vagrantfile validated successfully.');
    expect(arm.code).toBe(0);
  }, 60_000);
});

/**
 * lima/workshop.yaml, checked without Lima: Lima publishes its JSON schema only as a release
 * artifact (`limactl generate-jsonschema`), not in a registry, so the fields are checked against
 * the names of Lima's LimaYAML type (pkg/limatype/lima_yaml.go, Lima 2.x).
 */
describe('lima/workshop.yaml', () => {
  const LIMA_KEYS = ['base', 'minimumLimaVersion', 'vmType', 'vmOpts', 'os', 'arch', 'images', 'cpuType', 'cpus', 'memory', 'disk', 'additionalDisks', 'mounts', 'mountTypesUnsupported', 'mountType', 'mountInotify', 'ssh', 'firmware', 'audio', 'video', 'provision', 'upgradePackages', 'containerd', 'guestInstallPrefix', 'probes', 'portForwards', 'copyToHost', 'message', 'networks', 'env', 'param', 'dns', 'hostResolver', 'propagateProxyEnv', 'caCerts', 'rosetta', 'plain', 'timezone', 'nestedVirtualization', 'user', 'tpm', 'osOpts'];
  const text = readFileSync(path.join(repo, 'lima/workshop.yaml'), 'utf8');
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isRecord) : []);

  it('parses as YAML, with only fields Lima knows', async () => {
    const { parse } = await import('yaml');
    const t: unknown = parse(text);
    expect(isRecord(t)).toBe(true);
    expect(Object.keys(isRecord(t) ? t : {}).filter((k) => !LIMA_KEYS.includes(k))).toEqual([]);
  });

  it('has Debian 13 for arm64 and x86_64, the first of each checked by a sha512 digest', async () => {
    const { parse } = await import('yaml');
    const images = list((parse(text) as Record<string, unknown>)['images']);
    for (const arch of ['aarch64', 'x86_64']) {
      const mine = images.filter((i) => i['arch'] === arch);
      expect(mine.length, arch).toBeGreaterThan(0);
      expect(String(mine[0]?.['location'])).toMatch(/^https:\/\/cloud\.debian\.org\/images\/cloud\/trixie\/.*debian-13-.*\.qcow2$/);
      expect(String(mine[0]?.['digest'])).toMatch(/^sha512:[0-9a-f]{128}$/);
      for (const i of mine) expect(Object.keys(i).filter((k) => !['location', 'arch', 'digest', 'variant', 'kernel', 'initrd'].includes(k))).toEqual([]);
    }
  });

  it("provisions with the repository's own vagrant/provision.sh, from a read-only mount, and waits for it", async () => {
    const { parse } = await import('yaml');
    const t = parse(text) as Record<string, unknown>;
    const provision = list(t['provision']);
    expect(provision.map((p) => p['mode'])).toEqual(['system']);
    expect(String(provision[0]?.['script'])).toMatch(/^#!\/bin\/bash\n/);
    expect(String(provision[0]?.['script'])).toContain('bash /opt/workshop/vagrant/provision.sh');
    expect(list(t['mounts'])).toEqual([{ location: '{{.Param.repo}}', mountPoint: '/mnt/workshop-host', writable: false }]);
    expect(t['containerd']).toEqual({ system: false, user: false });
    expect(String(list(t['probes'])[0]?.['script'])).toContain('/run/workshop-provisioned');
  });

  it('its provisioning script is bash that parses', async () => {
    const { parse } = await import('yaml');
    const script = String(list((parse(text) as Record<string, unknown>)['provision'])[0]?.['script']);
    const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
