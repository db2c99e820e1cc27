import { Readable } from 'node:stream';
import type { AllStreamResolvedEvent, Position as EsdbPosition } from '@eventstore/db-client';
// The client's own ReadStream (not exported by the package's index): the fake calls below go
// through the real cancel() logic, only the gRPC call underneath is simulated.
import { ReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream.js';
import type { AllSubscription } from '../eventStoreDbEventStore.ts';
import type { OpenAllRead } from '../reads.ts';

export interface FakeEntry {
  streamId: string;
  type: string;
  /** Defaults to a fresh id. */
  id?: string;
  metadata?: unknown;
}

/** A fake gRPC server call: counts whether it was cancelled or ran to its end. */
class FakeCall extends Readable {
  cancelled = false;
  ended = false;
  private index = 0;
  constructor(private readonly responses: unknown[]) {
    super({ objectMode: true, highWaterMark: 4 });
  }
  override _read(): void {
    if (this.cancelled) return;
    if (this.index < this.responses.length) {
      this.push(this.responses[this.index++]);
      return;
    }
    this.ended = true;
    this.push(null);
  }
  /** What grpc-js does on cancel(): an error the client recognises as its own cancellation. */
  cancel(): void {
    if (this.cancelled || this.ended) return;
    this.cancelled = true;
    this.destroy(
      Object.assign(new Error('1 CANCELLED: Cancelled on client'), {
        code: 1,
        details: 'Cancelled on client',
      }),
    );
  }
}

/**
 * $all as a list of events, read through the EventStoreDB client's ReadStream over fake gRPC
 * calls; `openCalls` counts calls neither cancelled nor finished by the server: what would stay
 * open on a real channel.
 */
export class FakeLog {
  readonly events: AllStreamResolvedEvent[] = [];
  readonly calls: FakeCall[] = [];
  private next = 1n;

  append(...entries: FakeEntry[]): EsdbPosition[] {
    return entries.map((entry) => {
      // Positions grow by a few hundred bytes per record, like a transaction log.
      const position = { commit: this.next * 300n, prepare: this.next * 300n };
      this.next++;
      this.events.push({
        event: {
          streamId: entry.streamId,
          type: entry.type,
          id: entry.id ?? crypto.randomUUID(),
          revision: 0n,
          data: {},
          metadata: entry.metadata as never,
          isJson: true,
          created: new Date(0),
          position,
        },
      });
      return position;
    });
  }

  appendUser(count: number, streamId = 'user-stream'): EsdbPosition[] {
    return this.append(...Array.from({ length: count }, () => ({ streamId, type: 'Tested' })));
  }

  appendSystem(count: number): EsdbPosition[] {
    return this.append(
      ...Array.from({ length: count }, (_, i) => ({
        streamId: i % 2 ? '$ce-user' : '$stats-127.0.0.1:2113',
        type: i % 2 ? '$>' : '$statsCollected',
      })),
    );
  }

  get openCalls(): number {
    return this.calls.filter((c) => !c.cancelled && !c.ended).length;
  }

  /** Reads as the server does: from a position inclusive, forwards or backwards. */
  readonly open: OpenAllRead = (from, count, direction) => {
    const cmp = (p: EsdbPosition) =>
      from === 'start' || from === 'end'
        ? true
        : direction === 'forwards'
          ? p.commit >= from.commit
          : p.commit <= from.commit;
    const ordered = direction === 'forwards' ? this.events : [...this.events].reverse();
    const slice = ordered.filter((e) => cmp(e.event!.position)).slice(0, count);
    const call = new FakeCall(slice.map((e) => ({ hasEvent: () => true, getEvent: () => e })));
    this.calls.push(call);
    return new ReadStream(
      () => Promise.resolve(call as never),
      (e: unknown) => e as AllStreamResolvedEvent,
      {},
    );
  };

  /** A subscription that delivers `events` (whatever their positions) then stays open. */
  subscription(events: AllStreamResolvedEvent[]): AllSubscription {
    const stream = new Readable({ objectMode: true, read() {} }) as AllSubscription;
    for (const e of events) stream.push(e);
    stream.unsubscribe = () => {
      stream.destroy();
      return Promise.resolve();
    };
    return stream;
  }
}
