import { randomUUID } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import {
  homeGroup,
  homeGroups,
  homeGroupTag,
  timelineKeys,
  timelinePartition,
} from './timelineKeys.ts';

const slotOf = (key: string) => calculateSlot(`prefix:${key}`);

describe('timeline keys: home groups', () => {
  it('give each group a tag in its own equal range of the slots', () => {
    const width = 16384 / homeGroups;
    const slots = Array.from({ length: homeGroups }, (_, g) => calculateSlot(homeGroupTag(g)));
    slots.forEach((slot, g) => {
      expect(slot, `group ${g}`).toBeGreaterThanOrEqual(g * width);
      expect(slot, `group ${g}`).toBeLessThan((g + 1) * width);
    });
    // Three masters holding equal ranges hold equal shares of the groups (±1).
    const perMaster = [0, 0, 0];
    for (const slot of slots) perMaster[Math.floor((slot * 3) / 16384)]!++;
    expect(Math.max(...perMaster) - Math.min(...perMaster)).toBeLessThanOrEqual(1);
  });

  it("put every key of a user in its group's slot", () => {
    const keys = timelineKeys('v1');
    const users = Array.from({ length: 400 }, () => randomUUID());
    for (const u of users) {
      const slot = calculateSlot(homeGroupTag(homeGroup(u)));
      const own = [
        keys.home(u),
        keys.user(u),
        keys.stream(u),
        keys.author(u),
        keys.followers(u),
        keys.following(u),
      ];
      expect(own.map(slotOf)).toEqual(Array(own.length).fill(slot));
      expect(keys.homeScriptKeys(u)).toEqual([keys.home(u), keys.user(u), keys.stream(u)]);
    }
    // Tweet bodies are tagged by groups of tweets: on the groups' slots.
    const groupSlots = new Set(
      Array.from({ length: homeGroups }, (_, g) => calculateSlot(homeGroupTag(g))),
    );
    for (const t of users) expect(groupSlots.has(slotOf(keys.tweet(t)))).toBe(true);
    // 400 users in 256 groups: some share a group, and then a slot.
    const byGroup = new Map<number, string[]>();
    for (const u of users) byGroup.set(homeGroup(u), [...(byGroup.get(homeGroup(u)) ?? []), u]);
    const [a, b] = [...byGroup.values()].find((group) => group.length > 1)!;
    expect(slotOf(keys.home(a!))).toBe(slotOf(keys.user(b!)));
  });

  it('keep each group in one fan-out partition when the partition count divides the groups', () => {
    for (const u of Array.from({ length: 200 }, () => randomUUID())) {
      expect(timelinePartition(u, 4)).toBe(homeGroup(u) % 4);
      // Case does not move a user (ids are compared lower-case).
      expect(homeGroup(u.toUpperCase())).toBe(homeGroup(u));
    }
  });
});
