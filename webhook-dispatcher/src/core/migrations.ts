import { sql, type Kysely, type Migration } from 'kysely';

/** The dispatcher's migrations (component `webhook_dispatcher`), applied at start-up. */
export const dispatcherMigrations: Record<string, Migration> = {
  '2026-01-20T10:00:00_webhooks': {
    async up(db: Kysely<unknown>) {
      await sql`CREATE SCHEMA IF NOT EXISTS webhooks`.execute(db);
      await sql`
        CREATE TABLE webhooks.subscriptions (
          id uuid PRIMARY KEY,
          owner_id uuid NOT NULL,
          url text NOT NULL,
          events text[] NOT NULL,
          user_ids uuid[],
          secret text NOT NULL,
          created_at timestamptz NOT NULL,
          disabled_at timestamptz,
          deleted_at timestamptz
        )`.execute(db);
      await sql`CREATE INDEX subscriptions_owner ON webhooks.subscriptions (owner_id, id DESC)
                WHERE deleted_at IS NULL`.execute(db);
      // Intake matches every event against the live subscriptions by type.
      await sql`CREATE INDEX subscriptions_events ON webhooks.subscriptions USING gin (events)
                WHERE deleted_at IS NULL AND disabled_at IS NULL`.execute(db);
      await sql`
        CREATE TABLE webhooks.events (
          id uuid PRIMARY KEY,
          seq bigint NOT NULL,
          type text NOT NULL,
          occurred_at timestamptz NOT NULL,
          data jsonb NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
      await sql`
        CREATE TABLE webhooks.deliveries (
          id uuid PRIMARY KEY,
          subscription_id uuid NOT NULL REFERENCES webhooks.subscriptions (id),
          event_id uuid NOT NULL REFERENCES webhooks.events (id),
          event_seq bigint NOT NULL,
          status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
          attempts integer NOT NULL DEFAULT 0,
          round_start integer NOT NULL DEFAULT 0,
          next_attempt_at timestamptz,
          last_status_code integer,
          last_error text,
          delivered_at timestamptz,
          created_at timestamptz NOT NULL DEFAULT now(),
          -- A redelivered NATS message finds its deliveries already there and creates nothing.
          UNIQUE (subscription_id, event_id)
        )`.execute(db);
      // The drain of one subscription: its unfinished deliveries in event order.
      await sql`CREATE INDEX deliveries_unfinished ON webhooks.deliveries
                (subscription_id, event_seq, id) WHERE status IN ('pending', 'failed')`.execute(db);
      // Queue depth and the age of the oldest pending delivery (metrics).
      await sql`CREATE INDEX deliveries_unfinished_age ON webhooks.deliveries (created_at)
                WHERE status IN ('pending', 'failed')`.execute(db);
      await sql`CREATE INDEX deliveries_listing ON webhooks.deliveries (subscription_id, id DESC)`.execute(
        db,
      );
      await sql`
        CREATE TABLE webhooks.tasks (
          id uuid PRIMARY KEY,
          owner_id uuid NOT NULL,
          username text NOT NULL,
          webhook_url text,
          status text NOT NULL
            CHECK (status IN ('scheduled', 'running', 'retrying', 'succeeded', 'failed')),
          attempts integer NOT NULL DEFAULT 0,
          last_error text,
          run_at timestamptz NOT NULL,
          finished_at timestamptz,
          created_at timestamptz NOT NULL
        )`.execute(db);
      // One unfinished task per username: the key is held until the task succeeds or fails.
      await sql`CREATE UNIQUE INDEX tasks_one_unfinished_per_username ON webhooks.tasks (lower(username))
                WHERE status IN ('scheduled', 'running', 'retrying')`.execute(db);
      await sql`
        CREATE TABLE webhooks.attempts (
          id bigserial PRIMARY KEY,
          delivery_id uuid REFERENCES webhooks.deliveries (id),
          task_id uuid REFERENCES webhooks.tasks (id),
          attempted_at timestamptz NOT NULL,
          status_code integer,
          error text,
          duration_ms real NOT NULL,
          CHECK ((delivery_id IS NULL) <> (task_id IS NULL))
        )`.execute(db);
      await sql`CREATE INDEX attempts_delivery ON webhooks.attempts (delivery_id) WHERE delivery_id IS NOT NULL`.execute(
        db,
      );
      await sql`CREATE INDEX attempts_task ON webhooks.attempts (task_id) WHERE task_id IS NOT NULL`.execute(
        db,
      );
      await sql`
        CREATE TABLE webhooks.worker_instances (
          instance_id text PRIMARY KEY,
          worker_ids text[] NOT NULL DEFAULT '{}',
          started_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
    },
  },
  '2026-11-24T17:00:00_task_min_position': {
    async up(db: Kysely<unknown>) {
      // The X-Min-Position of POST /tasks: the digest reads wait for it (read-your-writes).
      await sql`ALTER TABLE webhooks.tasks ADD COLUMN min_position text`.execute(db);
    },
  },
};
