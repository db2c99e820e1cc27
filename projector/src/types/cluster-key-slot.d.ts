/** The hash slot (0–16383) of a Redis key, hash tags included (the package ioredis routes by). */
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
