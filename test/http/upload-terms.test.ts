// An upload's terms as a form or a query gives them: unlisted, expires_in, max_views. Nothing
// given is today's default (listed, kept, unlimited); a bad value is refused naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequest } from '../../src/errors.js';
import { MAX_EXPIRES_IN, MAX_VIEWS, parseDuration, parseUploadTerms } from '../../src/http/upload-terms.js';

const now = new Date('2026-01-01T00:00:00Z');
const refused = (fields: Record<string, string>, field: string) => () => {
  assert.throws(() => parseUploadTerms(fields, now), (err: unknown) => err instanceof BadRequest && err.message.includes(`'${field}'`));
};

describe('parseUploadTerms', () => {
  it('gives no terms, for the server\'s defaults, when nothing or only empty values are given', () => {
    assert.deepEqual(parseUploadTerms({}, now), {});
    assert.deepEqual(parseUploadTerms({ unlisted: '', expires_in: '', max_views: ' ' }, now), {});
    assert.deepEqual(parseUploadTerms({ name: 'cat.png', _xsrf: 'x' }, now), {});
  });

  it('gives each term given and only those', () => {
    assert.deepEqual(parseUploadTerms({ max_views: '2' }, now), { maxViews: 2 });
    assert.deepEqual(parseUploadTerms({ unlisted: 'off', expires_in: '1s' }, now), { unlisted: false, expiresAt: new Date(now.getTime() + 1000) });
  });

  it('reads unlisted from true, 1, on and yes, and false from false, 0, off and no', () => {
    for (const yes of ['true', '1', 'on', 'yes', 'ON', 'True']) assert.equal(parseUploadTerms({ unlisted: yes }, now).unlisted, true, yes);
    for (const no of ['false', '0', 'off', 'no']) assert.equal(parseUploadTerms({ unlisted: no }, now).unlisted, false, no);
  });

  it('sets the expiry that many seconds, minutes, hours, days or weeks from now', () => {
    const at = (value: string) => parseUploadTerms({ expires_in: value }, now).expiresAt?.getTime();
    assert.equal(at('90'), now.getTime() + 90_000);
    assert.equal(at('90s'), now.getTime() + 90_000);
    assert.equal(at('30m'), now.getTime() + 1_800_000);
    assert.equal(at('1h'), now.getTime() + 3_600_000);
    assert.equal(at('7d'), now.getTime() + 7 * 86_400_000);
    assert.equal(at('2w'), now.getTime() + 14 * 86_400_000);
    assert.equal(at('1H'), now.getTime() + 3_600_000);
  });

  it('takes durations from one second to ten years', () => {
    assert.equal(parseDuration('1'), 1);
    assert.equal(parseDuration('3650d'), MAX_EXPIRES_IN);
  });

  it('reads max_views as a whole number from 1 to a billion', () => {
    assert.equal(parseUploadTerms({ max_views: '1' }, now).maxViews, 1);
    assert.equal(parseUploadTerms({ max_views: '25' }, now).maxViews, 25);
    assert.equal(parseUploadTerms({ max_views: String(MAX_VIEWS) }, now).maxViews, MAX_VIEWS);
  });

  it('refuses an unlisted that is not a yes or a no', refused({ unlisted: 'maybe' }, 'unlisted'));

  it('refuses an expires_in that is zero, negative, fractional, of an unknown unit or over ten years', () => {
    for (const value of ['0', '0s', '-5', '1.5h', '1y', '10 minutes', 'h', '3651d', '99999999999999', 'soon']) refused({ expires_in: value }, 'expires_in')();
  });

  it('refuses a max_views that is zero, negative, fractional, not a number or over a billion', () => {
    for (const value of ['0', '-1', '2.5', 'ten', '1e3', String(MAX_VIEWS + 1), '99999999999']) refused({ max_views: value }, 'max_views')();
  });

  it('quotes a long bad value cut short', () => {
    assert.throws(() => parseUploadTerms({ max_views: 'x'.repeat(1000) }, now), (err: unknown) => err instanceof Error && err.message.length < 200);
  });
});
