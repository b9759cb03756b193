// A class server's stand-in for the kill -9 test: it opens the labs of a state folder, attaches to
// a learner's terminal, sets a shell variable there, says READY, and waits to be killed.
//   node test/labs/host-child.ts STATE_DIR IMAGE_DIR LEARNER kvm|tcg
import { readLabImage } from '../../src/labs/image.ts';
import { Labs } from '../../src/labs/labs.ts';
import { QemuDriver } from '../../src/labs/qemu.ts';
import { PROMPT, Screen } from './helpers.ts';

const [stateDir, imageDir, learner, accel] = process.argv.slice(2);
if (!stateDir || !imageDir || !learner || (accel !== 'kvm' && accel !== 'tcg')) throw new Error('usage: host-child.ts STATE_DIR IMAGE_DIR LEARNER kvm|tcg');
const driver = new QemuDriver({ stateDir, image: await readLabImage(imageDir), accel });
const labs = await Labs.open({ driver, stateDir, capacity: 2 });
const s = await labs.attach(learner, { cols: 100, rows: 30 });
const screen = new Screen(s);
await screen.waitFor(PROMPT, 60_000);
screen.since();
s.write('export WS_K9=survived-kill-9; echo set-$WS_K9\r');
await screen.waitFor(/set-survived-kill-9/, 60_000);
process.stdout.write(`READY ${process.pid}\n`);
setInterval(() => {}, 1 << 30);
