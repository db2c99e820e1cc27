import { z } from 'zod';

/**
 * The OpenAPI building blocks every service's contract shares, defined once so that an id or a
 * timestamp reads the same in every document.
 */

/** An id as the services write it (UUIDv7, lower case). */
export const idField = z
  .uuid('must be a UUID')
  .meta({ description: 'UUID (v7)', example: '01936b2a-7c3e-7d1a-9f4e-2b8c5d6e7f80' });

/** An id in a path or body: any case accepted, lowercased so one resource has one stream name. */
export const idParam = idField.transform((s) => s.toLowerCase());

/** Every timestamp of the contract. */
export const timestampField = z.iso
  .datetime({ precision: 3 })
  .meta({ description: 'RFC 3339 UTC with milliseconds', example: '2026-11-24T10:15:30.123Z' });

/** The fields of a user that every service's answers share (never the token or its hash). */
export const userFields = {
  id: idField,
  username: z.string(),
  displayName: z.string(),
  bio: z.string(),
  createdAt: timestampField,
};

/** `security` of a route that needs `Authorization: Bearer <token>` (scheme registered in docs.ts). */
export const bearerSecurity = [{ bearer: [] }];
