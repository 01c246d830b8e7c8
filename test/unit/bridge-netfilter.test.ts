/**
 * br_netfilter in ctrnet's namespace (firewall/nft/bridge-netfilter.ts): ctrnet turns the switches
 * off only when no other program's nftables tables are there, never turns them on, and says why
 * they are as they are.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../src/firewall/nft/bridge-netfilter';

const on = { 'bridge-nf-call-iptables': '1', 'bridge-nf-call-ip6tables': '1', 'bridge-nf-call-arptables': '0' };
const off = { 'bridge-nf-call-iptables': '0', 'bridge-nf-call-ip6tables': '0', 'bridge-nf-call-arptables': '0' };
const missing = { 'bridge-nf-call-iptables': '', 'bridge-nf-call-ip6tables': '', 'bridge-nf-call-arptables': '' };

describe('bridge-netfilter decide()', () => {
  it('turns the switches off when only ctrnet has tables in the namespace (or none has)', () => {
    for (const tables of [[], ['ip ctrnet', 'bridge ctrnet'], ['ip ctrnet', 'ip6 ctrnet', 'bridge ctrnet']]) {
      const d = decide(on, tables, false);
      assert.equal(d.turnOff, true, tables.join());
      assert.match(d.facts.why, /turned off by ctrnet/);
    }
  });

  it('leaves them on when another program has tables there, and names them', () => {
    const d = decide(on, ['ip ctrnet', 'ip filter', 'ip nat', 'bridge ctrnet'], false);
    assert.equal(d.turnOff, false);
    assert.equal(d.facts.on, true);
    assert.match(d.facts.why, /another program \(ip filter, ip nat\)/);
  });

  it('does not fight another program that turned them on after ctrnet turned them off', () => {
    const d = decide(on, ['ip ctrnet'], true);
    assert.equal(d.turnOff, false);
    assert.match(d.facts.why, /another program turned it on after ctrnet turned it off/);
  });

  it('never turns them on; says when they are off, or when the kernel has no br_netfilter', () => {
    assert.deepEqual(decide(off, ['ip filter'], false), { turnOff: false, facts: { present: true, on: false, why: 'off in this network namespace: bridged frames pass no iptables hook' } });
    assert.equal(decide(missing, [], false).facts.present, false);
    assert.equal(decide(missing, [], false).turnOff, false);
  });
});
