import { ApiError } from './api';
import { t, type Key } from './i18n';

// Server error codes (docs/api.md, docs/chat.md) in words.
const byCode: Record<string, Key> = {
  network: 'err.network',
  unauthorized: 'err.unauthorized',
  invalid_credentials: 'err.invalid_credentials',
  forbidden: 'err.forbidden',
  banned: 'err.banned',
  not_found: 'err.not_found',
  stream_not_found: 'err.stream_not_found',
  name_taken: 'err.name_taken',
  conflict: 'err.conflict',
  rate_limited: 'err.rate_limited',
  body_too_large: 'err.too_large',
  too_large: 'err.too_large',
  internal: 'err.internal',
  muted: 'err.muted',
  too_long: 'err.too_long',
  empty: 'err.empty',
  kicked: 'err.kicked',
  too_many_connections: 'err.too_many_connections',
  invalid_signature: 'err.invalid_signature',
  cover_too_large: 'err.cover_too_large',
  cover_not_image: 'err.cover_not_image',
  cover_bad_image: 'err.cover_bad_image',
  cover_bad_dimensions: 'err.cover_bad_dimensions',
};

/** A sentence for any error: known codes are translated; validation
 * messages name the field, so they are shown with a prefix. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'validation_failed') return t('err.validation', { msg: e.message });
    if (e.code === 'rate_limited' && e.retryAfter) return t('err.rate_limited_wait', { s: e.retryAfter });
    const k = byCode[e.code];
    if (k) return t(k);
    if (e.status >= 500) return t('err.internal');
    return t('err.generic', { msg: e.message || e.code });
  }
  return t('err.generic', { msg: e instanceof Error ? e.message : String(e) });
}

/** A chat error frame in words. */
export function describeChat(code: string, message: string): string {
  if (code === 'rate_limited') return t('chat.rate_limited');
  if (code === 'muted') return t('chat.muted_msg', { msg: message });
  const k = byCode[code];
  return k ? t(k) : t('err.generic', { msg: message || code });
}
