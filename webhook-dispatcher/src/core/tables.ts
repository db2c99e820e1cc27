import type { ColumnType, Generated, Selectable } from 'kysely';

/** The dispatcher's own tables, in the `webhooks` schema (migrations.ts). */

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'dead';
export const unfinishedDeliveryStatuses = ['pending', 'failed'] as const;

export type TaskStatus = 'scheduled' | 'running' | 'retrying' | 'succeeded' | 'failed';
export const unfinishedTaskStatuses = ['scheduled', 'running', 'retrying'] as const;

export interface SubscriptionTable {
  id: string;
  owner_id: string;
  url: string;
  events: string[];
  user_ids: string[] | null;
  /** `whsec_…`: kept because every delivery is signed with it; never logged, shown once. */
  secret: string;
  created_at: Timestamp;
  /** Set when the receiver answered 410 Gone: nothing more is sent. */
  disabled_at: Timestamp | null;
  deleted_at: Timestamp | null;
}

/** Each integration event once, however many subscriptions it goes to. */
export interface EventTable {
  id: string;
  /** JetStream stream sequence: the order deliveries of one subscription go out in. */
  seq: number;
  type: string;
  occurred_at: Timestamp;
  data: unknown;
  received_at: Generated<Timestamp>;
}

export interface DeliveryTable {
  id: string;
  subscription_id: string;
  event_id: string;
  event_seq: number;
  status: DeliveryStatus;
  attempts: Generated<number>;
  /** `attempts` when the current round began (creation or a redeliver): the retry budget counts from here. */
  round_start: Generated<number>;
  next_attempt_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  created_at: Generated<Timestamp>;
}

export interface AttemptTable {
  id: Generated<number>;
  delivery_id: string | null;
  task_id: string | null;
  attempted_at: Timestamp;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface TaskTable {
  id: string;
  owner_id: string;
  username: string;
  /** The request's webhookUrl; null means WEBHOOK_URL at the time of sending. */
  webhook_url: string | null;
  /** The request's X-Min-Position: the digest's reads wait until the projections passed it. */
  min_position: string | null;
  status: TaskStatus;
  attempts: Generated<number>;
  last_error: string | null;
  run_at: Timestamp;
  finished_at: Timestamp | null;
  created_at: Timestamp;
}

/** Dispatcher processes, so that jobs a killed one had locked are released (workerLiveness.ts). */
export interface WorkerInstanceTable {
  instance_id: string;
  worker_ids: string[];
  started_at: Generated<Timestamp>;
}

export interface DispatcherDatabase {
  'webhooks.subscriptions': SubscriptionTable;
  'webhooks.events': EventTable;
  'webhooks.deliveries': DeliveryTable;
  'webhooks.attempts': AttemptTable;
  'webhooks.tasks': TaskTable;
  'webhooks.worker_instances': WorkerInstanceTable;
}

export type Subscription = Selectable<SubscriptionTable>;
export type Delivery = Selectable<DeliveryTable>;
export type Task = Selectable<TaskTable>;
