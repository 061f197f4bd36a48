// The unit an attacker pays for. One IPv4 address is one; an IPv6 host is usually handed
// a whole /64 and can take a new address in it for every request, so counting IPv6 by
// address would let it reset every per-address limit at will. IPv6 addresses count by
// their /64 (as sshd's PerSourcePenalties and fail2ban's ipv6 mask do); an IPv4 address
// written as IPv6 (::ffff:a.b.c.d) is its IPv4 address.
import { isIPv6 } from 'node:net';

/** The key per-address limits count `address` under. */
export function addressGroup(address: string): string {
  if (!isIPv6(address)) return address;
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.includes('.')) return lower.slice(7);
  return `${expandedGroups(lower).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros. */
function expandedGroups(address: string): string[] {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // A trailing dotted IPv4 part fills two groups.
  const last = right.length > 0 ? right : left;
  const dotted = last.at(-1);
  if (dotted?.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    last.splice(-1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}
