// The lab network: the internet, the uplink, the host, the veth and the box, each piece ok or wrong.
import type { NetworkingPicture, Piece } from '../../contract/state.ts';
import type { St } from './draw.ts';

function drawPiece(p: Piece, st: St): string {
  if (p.status === 'ok') return `${st('green', '✔')} ${p.name}: ${p.actual}`;
  if (p.status === 'missing') return `${st('red', '✘')} ${p.name}: ${st('red', 'missing')} ${st('dim', `(expected ${p.expected ?? '?'})`)}`;
  return `${st('red', '✘')} ${p.name}: ${p.actual} ${st('dim', `(expected ${p.expected ?? '?'})`)}`;
}

export function drawNetworking(p: NetworkingPicture, _dir: string, st: St): string[] {
  const block = (title: string, pieces: readonly Piece[]): string[] => [st('bold', title), ...pieces.map((x) => `  ${drawPiece(x, st)}`)];
  const link = (pieces: readonly Piece[]): string => (pieces.every((x) => x.status === 'ok') ? '        │' : `        ${st('red', '╳')}`);
  return [
    ...block('ws-net  (the internet)', p.internet),
    link(p.uplink),
    ...block('uplink', p.uplink),
    link(p.uplink),
    ...block('ws-host  (the VM host)', p.host),
    link(p.veth),
    ...block('veth', p.veth),
    link(p.veth),
    ...block('ws-box  (the container)', p.box),
  ];
}
