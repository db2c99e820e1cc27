import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Ordering scheme. Sequence values are taken when a row is inserted but become visible when the
 * transaction commits, so with concurrent appenders event 11 can commit before event 10. A reader
 * that asks for "everything after 10" at that moment would skip 10 for ever.
 *
 * We order the log by (transaction id, sequence) and let readers see only transactions below the
 * oldest one still running (`pg_snapshot_xmin(pg_current_snapshot())`): everything below that
 * horizon has committed or aborted, so nothing can appear behind a reader later. The approach
 * Emmett uses. Trade-offs, and why it beats the alternatives here:
 *  - appends stay fully concurrent and keep group commit (serialising appends would cap throughput
 *    at one fsync per append);
 *  - no gap timeout to guess (Marten's high-water mark skips a gap after a timeout, which a slow
 *    commit can outlive);
 *  - the cost: a long-running transaction anywhere in the cluster holds subscribers back until it
 *    ends (they lag, they never skip). Keep transactions short; the product's are milliseconds.
 *
 * Within one stream the appender takes a per-stream advisory lock before its first write, so it is
 * given its transaction id only after the previous appender to that stream committed: log order
 * agrees with revision order inside every stream.
 */
const up = async (db: Kysely<unknown>) => {
  await sql`CREATE SCHEMA IF NOT EXISTS event_store`.execute(db);
  await sql`
    CREATE TABLE event_store.events (
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      global_position bigint GENERATED ALWAYS AS IDENTITY,
      stream_id text NOT NULL,
      stream_revision bigint NOT NULL,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (transaction_id, global_position),
      UNIQUE (stream_id, stream_revision),
      UNIQUE (event_id)
    )`.execute(db);
  // One round trip per append. The stream's revision comes from the (stream_id, stream_revision)
  // index rather than a table of its own, and event-id duplicates are looked for only when the
  // append cannot go ahead as asked: both keep the hot path to a single row write.
  await sql`
    CREATE FUNCTION event_store.append_events(
      p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[],
      OUT status text, OUT revision bigint, OUT transaction_id text, OUT global_position text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_current bigint;
      v_existing int;
      v_count int := cardinality(p_ids);
    BEGIN
      -- Before any write, so that this transaction's id is assigned after the previous appender to
      -- the stream has committed (see the ordering note above).
      PERFORM pg_advisory_xact_lock(hashtextextended('event_store:' || p_stream, 0));

      SELECT max(e.stream_revision) INTO v_current FROM event_store.events e WHERE e.stream_id = p_stream;
      -- p_expected: -1 any, -2 no stream, -3 stream exists, n >= 0 exactly n.
      IF (p_expected = -2 AND v_current IS NOT NULL)
         OR (p_expected = -3 AND v_current IS NULL)
         OR (p_expected >= 0 AND v_current IS DISTINCT FROM p_expected) THEN
        -- A retry of an append that already happened is not a conflict: answer as the first time.
        SELECT count(*) INTO v_existing FROM event_store.events e WHERE e.event_id = ANY (p_ids);
        IF v_existing = v_count THEN
          SELECT 'duplicate', e.stream_revision, e.transaction_id::text, e.global_position::text
            INTO status, revision, transaction_id, global_position
            FROM event_store.events e WHERE e.event_id = p_ids[v_count];
        ELSIF v_existing > 0 THEN
          status := 'partial_duplicate';
        ELSE
          status := 'wrong_expected_revision';
          revision := v_current;
        END IF;
        RETURN;
      END IF;

      v_current := coalesce(v_current, -1);
      WITH inserted AS (
        INSERT INTO event_store.events (stream_id, stream_revision, event_id, event_type, data, metadata)
        SELECT p_stream, v_current + t.ord, t.id, t.type, t.data, t.meta
          FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS t(id, type, data, meta, ord)
          ORDER BY t.ord
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_store.events.global_position
      )
      SELECT max(i.global_position)::text, count(*) INTO global_position, v_existing FROM inserted i;
      IF v_existing < v_count THEN
        -- Some ids are stored already (an expectation of 'any', or another stream): undo the
        -- statement; the caller looks the first append up.
        RAISE EXCEPTION 'event ids already stored' USING ERRCODE = 'P0002';
      END IF;

      status := 'ok';
      revision := v_current + v_count;
      transaction_id := pg_current_xact_id()::text;
    END
    $fn$`.execute(db);
};

const down = async (db: Kysely<unknown>) => {
  await sql`DROP SCHEMA event_store CASCADE`.execute(db);
};

/**
 * Group commit: several appends (to any streams, each with its own expectation) in one round
 * trip and one transaction, each answered as `append_events` would answer it alone. The adapter
 * sends every append through it: alone, or with what queued up while its earlier calls were
 * under way (postgresEventStore.ts). `append_events` stays for services of earlier versions.
 *
 * Ordering: every stream's advisory lock is taken before the first write, in one order for all
 * callers (so two batches cannot deadlock), which keeps the note above true: the transaction id
 * is assigned after every earlier appender to any of these streams has committed. The appends are
 * then made one after another, each seeing the ones before it (two to the same stream queue up as
 * they would alone). An append whose ids turn out to be stored already has its rows taken out
 * again ('ids_stored'), so it changes nothing and the others still commit.
 */
const appendBatchUp = async (db: Kysely<unknown>) => {
  await sql`
    CREATE FUNCTION event_store.append_batch(
      p_streams text[], p_expected bigint[], p_counts int[],
      p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[])
    RETURNS TABLE (item int, status text, revision bigint, transaction_id text, global_position text)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_key bigint;
      v_first int := 1;
      v_last int;
      v_ids uuid[];
      v_current bigint;
      v_expected bigint;
      v_existing int;
      v_inserted int;
      v_position text;
    BEGIN
      FOR v_key IN
        SELECT DISTINCT hashtextextended('event_store:' || s, 0) FROM unnest(p_streams) AS s ORDER BY 1
      LOOP
        PERFORM pg_advisory_xact_lock(v_key);
      END LOOP;

      FOR i IN 1 .. cardinality(p_streams) LOOP
        v_last := v_first + p_counts[i] - 1;
        v_ids := p_ids[v_first : v_last];
        v_expected := p_expected[i];
        SELECT max(e.stream_revision) INTO v_current FROM event_store.events e WHERE e.stream_id = p_streams[i];
        IF (v_expected = -2 AND v_current IS NOT NULL)
           OR (v_expected = -3 AND v_current IS NULL)
           OR (v_expected >= 0 AND v_current IS DISTINCT FROM v_expected) THEN
          SELECT count(*) INTO v_existing FROM event_store.events e WHERE e.event_id = ANY (v_ids);
          IF v_existing = p_counts[i] THEN
            RETURN QUERY SELECT i, 'duplicate'::text, e.stream_revision, e.transaction_id::text, e.global_position::text
              FROM event_store.events e WHERE e.event_id = v_ids[p_counts[i]];
          ELSIF v_existing > 0 THEN
            RETURN QUERY SELECT i, 'partial_duplicate'::text, NULL::bigint, NULL::text, NULL::text;
          ELSE
            RETURN QUERY SELECT i, 'wrong_expected_revision'::text, v_current, NULL::text, NULL::text;
          END IF;
        ELSE
          v_current := coalesce(v_current, -1);
          WITH inserted AS (
            INSERT INTO event_store.events (stream_id, stream_revision, event_id, event_type, data, metadata)
            SELECT p_streams[i], v_current + t.ord, t.id, t.type, t.data, t.meta
              FROM unnest(v_ids, p_types[v_first : v_last], p_data[v_first : v_last], p_metadata[v_first : v_last])
                   WITH ORDINALITY AS t(id, type, data, meta, ord)
              ORDER BY t.ord
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_store.events.global_position
          )
          SELECT max(ins.global_position)::text, count(*) INTO v_position, v_inserted FROM inserted ins;
          IF v_inserted < p_counts[i] THEN
            DELETE FROM event_store.events e
              WHERE e.stream_id = p_streams[i] AND e.stream_revision > v_current
                AND e.transaction_id = pg_current_xact_id();
            RETURN QUERY SELECT i, 'ids_stored'::text, NULL::bigint, NULL::text, NULL::text;
          ELSE
            RETURN QUERY SELECT i, 'ok'::text, v_current + p_counts[i], pg_current_xact_id()::text, v_position;
          END IF;
        END IF;
        v_first := v_last + 1;
      END LOOP;
    END
    $fn$`.execute(db);
};

const appendBatchDown = async (db: Kysely<unknown>) => {
  await sql`DROP FUNCTION event_store.append_batch`.execute(db);
};

export const eventStoreMigrations: Record<string, Migration> = {
  '2026-11-24T1000_create_event_store': { up, down },
  '2026-12-01T1000_append_batch': { up: appendBatchUp, down: appendBatchDown },
};
