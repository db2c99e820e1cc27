import { z } from 'zod';
import { idField } from './textFields.ts';

export const userPathParams = z.object({ id: idField });
export const followPathParams = z.object({ id: idField, targetId: idField });
export const tweetPathParams = z.object({ id: idField });
