import { z } from 'zod';

/**
 * Rules for user-written text. Lengths count Unicode code points after NFC normalisation (so a
 * precomposed "é" and "e" + combining accent count the same, and an emoji is one). Control
 * characters are refused (NUL would not even fit in a PostgreSQL jsonb value), as are lone UTF-16
 * surrogates, which are not text at all; bidirectional marks and joiners are ordinary text.
 */
const loneSurrogate = /\p{Cs}/u;
const anyControl = /\p{Cc}/u;
const controlExceptNewlineTab = /(?![\n\t])\p{Cc}/u;
/** Whitespace plus the invisible characters that would make a "blank" text look non-empty. */
const blank = /^[\s\u180E\u200B-\u200D\u2060]*$/u;

export const codePoints = (value: string): number => [...value].length;

interface TextFieldOptions {
  min: number;
  max: number;
  multiline: boolean;
  allowBlank: boolean;
  description: string;
}

export function textField({ min, max, multiline, allowBlank, description }: TextFieldOptions) {
  const control = multiline ? controlExceptNewlineTab : anyControl;
  return z
    .string()
    .normalize('NFC')
    .refine((s) => !loneSurrogate.test(s), 'must be valid Unicode (no lone surrogates)')
    .refine(
      (s) => !control.test(s),
      multiline
        ? 'must not contain control characters other than newline and tab'
        : 'must not contain control characters',
    )
    .refine((s) => codePoints(s) >= min && codePoints(s) <= max, {
      message: `must be ${min}–${max} characters (Unicode code points after NFC normalisation)`,
    })
    .refine((s) => allowBlank || !blank.test(s), 'must not be only whitespace')
    .meta({
      description:
        `${description} ${min}–${max} Unicode code points after NFC normalisation. ` +
        (multiline
          ? 'Control characters other than newline (U+000A) and tab (U+0009) are refused, '
          : 'Control characters (including NUL, newline and tab) are refused, ') +
        'as are lone surrogates.' +
        (allowBlank ? '' : ' Must not be only whitespace.'),
      minLength: min,
      maxLength: max,
    });
}

export const usernameField = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,15}$/, 'must be 1–15 letters, digits or underscores')
  .meta({
    description: '1–15 of A–Z, a–z, 0–9 and _. Unique case-insensitively, for ever.',
    example: 'ada_lovelace',
  });

export const displayNameField = textField({
  min: 0,
  max: 50,
  multiline: false,
  allowBlank: true,
  description: 'Display name:',
});

export const bioField = textField({
  min: 0,
  max: 160,
  multiline: true,
  allowBlank: true,
  description: 'Bio:',
});

export const tweetTextField = textField({
  min: 1,
  max: 280,
  multiline: true,
  allowBlank: false,
  description: 'Tweet text:',
});
